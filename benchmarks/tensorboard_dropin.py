"""TensorBoard drop-in benchmark: the cost of ``add_scalar`` (ours, torch's, tensorboardX's, side by
side in one run) and the speed of ``tracker import tensorboard`` on a generated logdir.

    python benchmarks/tensorboard_dropin.py [--events 1000000]

The logdir holds one run of EVENTS scalar events (10 tags), written with TensorBoard's own record
framing and Event protos; it is imported through a `tracker server` process into PostgreSQL
(TRACKER_BENCH_DATABASE_URL, default the local server) and timed from start to the last
acknowledgement.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest import DEFAULT_SERVER_URL, per_call_ns, scratch_database, server_process

import tracker_client as tracker
from tracker_client.channel import Connection
from tracker_server.tensorboard._proto import tensorboard_events_pb2 as tb
from tracker_server.tensorboard.importer import Importer
from tracker_server.tensorboard.records import write_record


def add_scalar_costs(address: str) -> dict[str, float]:
    results = {}
    with tempfile.TemporaryDirectory() as logdir:
        writer = tracker.SummaryWriter(os.path.join(logdir, "ours"), project="bench", server=address)
        results["tracker SummaryWriter.add_scalar"] = per_call_ns(lambda i: writer.add_scalar("loss", 0.5, i))
        writer.close()
        try:
            from torch.utils.tensorboard import SummaryWriter as TorchWriter
        except ImportError:
            pass
        else:
            torch_writer = TorchWriter(os.path.join(logdir, "torch"))
            results["torch SummaryWriter.add_scalar"] = per_call_ns(
                lambda i: torch_writer.add_scalar("loss", 0.5, i), calls=50_000
            )
            torch_writer.close()
        try:
            from tensorboardX import SummaryWriter as TBXWriter
        except ImportError:
            pass
        else:
            tbx_writer = TBXWriter(os.path.join(logdir, "tbx"))
            results["tensorboardX SummaryWriter.add_scalar"] = per_call_ns(
                lambda i: tbx_writer.add_scalar("loss", 0.5, i), calls=50_000
            )
            tbx_writer.close()
    return results


def write_logdir(root: Path, events: int, tags: int = 10) -> int:
    """One run of ``events`` scalar events in TensorBoard's format; returns the file's size."""
    run = root / "run0"
    run.mkdir(parents=True)
    path = run / "events.out.tfevents.1.bench"
    with path.open("wb") as f:
        write_record(f, tb.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        for i in range(events):
            event = tb.Event(wall_time=1.7e9 + i, step=i // tags)
            event.summary.value.add(tag=f"metric/{i % tags}", simple_value=i * 1e-6)
            write_record(f, event.SerializeToString())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    server_url = os.environ.get("TRACKER_BENCH_DATABASE_URL", DEFAULT_SERVER_URL)
    with scratch_database(server_url) as database_url, server_process(database_url) as address:
        costs = add_scalar_costs(address)
        with tempfile.TemporaryDirectory() as tmp:
            size = write_logdir(Path(tmp), args.events)
            with Connection(address) as connection:
                start = time.perf_counter()
                report = Importer(connection, "imported").import_logdir(Path(tmp))
                seconds = time.perf_counter() - start
    imported = report.imported["scalars"]
    print(f"\nTensorBoard drop-in benchmark, PostgreSQL, {os.cpu_count()} cores\n")
    print(f"{'measure':<58} {'value':>16}")
    print(f"{'-' * 58} {'-' * 16}")
    for name, ns in costs.items():
        print(f"{name + ', median per call':<58} {ns / 1000:>13.2f} µs")
    label = f"import of {imported:,} scalar events ({size / 1e6:,.0f} MB)"
    print(f"{label:<58} {imported / seconds:>10,.0f} ev/s")


if __name__ == "__main__":
    main()

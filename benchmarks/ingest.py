"""Ingest benchmark: the cost of ``run.log()``, end-to-end points per second into PostgreSQL, and
the database's own row-per-point reference, side by side in one run.

    python benchmarks/ingest.py [--steps 1000000] [--tags 10]

Measures
  (a) median cost on the caller's thread of one ``run.log()`` with 1 and with 10 metrics (and, when
      installed, tensorboardX's ``add_scalar`` and MLflow's asynchronous ``log_metric``);
  (b) points per second from the first ``log()`` until ``flush()`` returns, for 1 run x TAGS tags x
      STEPS steps, through a ``tracker server`` process into PostgreSQL;
  (c) the database's reference: the same points, one row each, written with psycopg binary COPY
      into a plain indexed table;
  (d) reading one STEPS-point series back through ``tracker.Api.scalars``.

PostgreSQL: TRACKER_BENCH_DATABASE_URL names the server (default the local one); the benchmark
creates and drops its own database there. Nothing here is a test: it prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

import tracker_client as tracker
from tracker_server.domain import members, users
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def per_call_ns(call: Callable[[int], None], *, calls: int = 200_000, group: int = 1000) -> float:
    """Median, over groups of ``group`` calls, of the mean time of one call (ns)."""
    samples = []
    i = 0
    for _ in range(calls // group):
        start = time.perf_counter_ns()
        for _ in range(group):
            call(i)
            i += 1
        samples.append((time.perf_counter_ns() - start) / group)
    return statistics.median(samples)


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the benchmark, dropped afterwards."""
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"tracker_bench_{os.getpid()}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def server_process(database_url: str, *, auth: str = "none") -> Iterator[str]:
    """`tracker db upgrade` then `tracker server --auth AUTH` in a separate process, as a team would
    run it."""
    cli = [sys.executable, "-m", "tracker_server.cli"]
    subprocess.run([*cli, "db", "upgrade", "--db", database_url], check=True, capture_output=True)
    proc = subprocess.Popen(
        [*cli, "server", "--db", database_url, "--port", "0", "--log-level", "WARNING", "--auth", auth],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = None
        deadline = time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited before it was ready")
            if match := re.search(r"listening on (\S+:\d+)", line):
                address = match.group(1)
        if address is None:
            raise RuntimeError("the server did not start within 60 s")
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def bench_log_cost(address: str) -> dict[str, float]:
    results: dict[str, float] = {}
    run = tracker.init(project="bench", name="log-cost", server=address)
    one = {"loss": 0.5}
    results["tracker run.log(), 1 metric"] = per_call_ns(lambda i: run.log(one, step=i))
    ten = {f"metric/{k}": 0.5 for k in range(10)}
    results["tracker run.log(), 10 metrics"] = per_call_ns(lambda i: run.log(ten, step=i), calls=100_000)
    run.finish()
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        pass
    else:
        with tempfile.TemporaryDirectory() as logdir:
            writer = SummaryWriter(logdir)
            results["tensorboardX add_scalar(), 1 metric"] = per_call_ns(
                lambda i: writer.add_scalar("loss", 0.5, i), calls=50_000
            )
            writer.close()
    try:
        import mlflow
    except ImportError:
        pass
    else:
        with tempfile.TemporaryDirectory() as root:
            mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
            with mlflow.start_run():
                results["MLflow log_metric(synchronous=False), 1 metric"] = per_call_ns(
                    lambda i: mlflow.log_metric("loss", 0.5, step=i, synchronous=False),
                    calls=5_000,
                    group=100,
                )
                mlflow.flush_async_logging()
    return results


def writer_token(database_url: str, project: str) -> str:
    """A token of a user who is not a server admin and administers ``project``: every batch it
    sends is authorized by a role lookup and a token re-check."""
    db = Database(database_url, pool_size=1)
    try:
        upgrade(db)
        users.create_user(db, "bench-writer")
        members.create_project(db, project, owner="bench-writer")
        return users.create_token(db, "bench-writer")[0]
    finally:
        db.dispose()


def bench_end_to_end(
    address: str, *, steps: int, tags: int, project: str = "bench", token: str | None = None
) -> tuple[float, str, float]:
    """Points per second from the first log() to flush() returning; then the read-back time."""
    names = [f"metric/{k}" for k in range(tags)]
    run = tracker.init(project=project, name="end-to-end", server=address, token=token)
    log = run.log
    start = time.perf_counter()
    for step in range(steps):
        value = step * 1e-6
        log(dict.fromkeys(names, value), step=step)
    run.flush(timeout=3600)
    elapsed = time.perf_counter() - start
    run.finish()
    with tracker.Api(server=address, token=token) as api:
        reads = []
        for _ in range(3):
            t0 = time.perf_counter()
            series = api.scalars(run.id, names[0])
            reads.append(time.perf_counter() - t0)
        assert len(series) == steps, len(series)
    return steps * tags / elapsed, run.id, min(reads)


def bench_mlflow_end_to_end(database_url: str, *, steps: int, tags: int) -> float | None:
    """MLflow's own bulk path, ``MlflowClient.log_batch`` (1,000 metrics per call, its limit), into
    PostgreSQL through its SQLAlchemy store; None when MLflow is not installed."""
    try:
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    client = MlflowClient(tracking_uri=database_url)
    run_id = client.create_run(client.create_experiment("bench")).info.run_id
    now = int(time.time() * 1000)
    metrics = [Metric(f"metric/{k}", step * 1e-6, now, step) for step in range(steps) for k in range(tags)]
    start = time.perf_counter()
    for first in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[first : first + 1000])
    return len(metrics) / (time.perf_counter() - start)


def bench_copy_reference(database_url: str, *, steps: int, tags: int) -> float:
    """One row per point via binary COPY into a plain indexed table (the database's own pace)."""
    conn_url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    row = np.dtype(
        [
            ("fields", ">i2"),
            ("l1", ">i4"),
            ("series", ">i4"),
            ("l2", ">i4"),
            ("step", ">i8"),
            ("l3", ">i4"),
            ("wall", ">f8"),
            ("l4", ">i4"),
            ("value", ">f8"),
        ]
    )
    with psycopg.connect(conn_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE points_reference (series integer, step bigint, wall_time double precision, "
            "value double precision)"
        )
        conn.execute("CREATE INDEX ON points_reference (series, step)")
        block = 200_000
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY points_reference FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00")
            now = time.time()
            for series in range(tags):
                for first in range(0, steps, block):
                    n = min(block, steps - first)
                    rows = np.empty(n, dtype=row)
                    rows["fields"], rows["l1"], rows["l2"], rows["l3"], rows["l4"] = 4, 4, 8, 8, 8
                    rows["series"] = series
                    rows["step"] = np.arange(first, first + n)
                    rows["wall"] = now
                    rows["value"] = rows["step"] * 1e-6
                    copy.write(rows.tobytes())
            copy.write(b"\xff\xff")
        elapsed = time.perf_counter() - start
    return steps * tags / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--mlflow-steps", type=int, default=5_000, help="MLflow is slow: fewer steps")
    args = parser.parse_args()
    server_url = os.environ.get("TRACKER_BENCH_DATABASE_URL", DEFAULT_SERVER_URL)

    with scratch_database(server_url) as database_url, server_process(database_url) as address:
        log_costs = bench_log_cost(address)
        rate, _run_id, read_seconds = bench_end_to_end(address, steps=args.steps, tags=args.tags)
        reference = bench_copy_reference(database_url, steps=args.steps, tags=args.tags)
    with scratch_database(server_url) as database_url:
        token = writer_token(database_url, "bench-auth")
        with server_process(database_url, auth="token") as address:
            auth_rate, _, _ = bench_end_to_end(
                address, steps=args.steps, tags=args.tags, project="bench-auth", token=token
            )
    with scratch_database(server_url) as mlflow_url:
        mlflow_rate = bench_mlflow_end_to_end(mlflow_url, steps=args.mlflow_steps, tags=args.tags)

    points = args.steps * args.tags
    print(
        f"\nTracker ingest benchmark: 1 run x {args.tags} tags x {args.steps:,} steps = {points:,} points, "
        f"PostgreSQL, {os.cpu_count()} cores\n"
    )
    print(f"{'measure':<58} {'value':>16}")
    print(f"{'-' * 58} {'-' * 16}")
    for name, ns in log_costs.items():
        print(f"(a) {name:<54} {ns / 1000:>13.2f} µs")
    print(f"(b) {'tracker end to end, first log() to flush() returning':<54} {rate:>10,.0f} pts/s")
    label = "the same with --auth token, a project admin's token"
    print(f"(b) {label:<54} {auth_rate:>10,.0f} pts/s")
    if mlflow_rate is not None:
        label = f"MLflow log_batch end to end ({args.mlflow_steps * args.tags:,} points)"
        print(f"(b) {label:<54} {mlflow_rate:>10,.0f} pts/s")
    print(f"(c) {'PostgreSQL binary COPY, one row per point, indexed':<54} {reference:>10,.0f} pts/s")
    print(f"(d) {f'tracker Api.scalars() of one {args.steps:,}-point series':<54} {read_seconds:>14.3f} s")


if __name__ == "__main__":
    main()

"""Load benchmark: many training processes log into one server on PostgreSQL, and every
point they logged must be stored exactly once.

    python benchmarks/load.py [--clients 16] [--duration 180] [--tags 10] [--rate 3500] [--json PATH]

Starts one `tracker server` process on a fresh PostgreSQL database (created, migrated with
`tracker db upgrade`, dropped at the end), then CLIENTS client processes. Each creates its own run
and, for DURATION seconds, calls ``run.log()`` with TAGS metrics per call, step after step, RATE
times a second (default 3,500: 16 x 10 x 3,500 = 560,000 points/s offered, just above the 500,000
target), or with ``--rate 0`` as fast as the client library lets it (``log()`` never blocks: what
the server has not yet taken waits in the client, in memory, then in its spool file). Then each
client flushes and finishes its run.

Measures
  - sustained ingest: points acknowledged by the server within the logging window / DURATION, the
    same per interval (so a burst cannot pass for a rate), and end to end: every point / the time
    until the last client's flush returned;
  - acknowledgement latency (p50, p99, max): seconds from a batch's first send to its ack, every
    batch of every client (``run.delivery_stats().ack_latencies``);
  - the server process's memory (VmRSS every second: start, max, end, and whether it stays flat:
    the mean of the last third of the logging window within 10% of the middle third's);
  - where the machine's CPU went (server, clients, all PostgreSQL processes, everything else);
  - errors: any exception in a client (DeliveryError included), reconnects and duplicate acks
    from ``delivery_stats()``, ERROR/Traceback lines in the server's log, its exit status;
  - a final exact count through ``tracker_client.Api``: for every client, the points it logged
    against the count of every one of its tags, plus one whole tag per client read back and
    compared step by step and value by value.

Exits 1 when any point is missing or duplicated or any error occurred (speed targets are reported,
never enforced). ``tests/e2e/test_load_short.py`` runs the same machinery for a few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import math
import multiprocessing as mp
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROJECT = "load"
CHECK_EVERY = 64  # log() calls between looks at the clock and updates of the shared counter
REPORT_EVERY = 0.1  # seconds between a client's updates of its acknowledged-points counter
SAMPLE_EVERY = 1.0  # seconds between the parent's samples (server RSS, counters, CPU)
FLAT_TOLERANCE = 0.10  # memory is "flat" when the last third's mean is within 10% of the middle third's

# Targets from the issue ("never lose or duplicate a point").
TARGET_RATE = 500_000
TARGET_P99 = 1.0
# The command's default pace: an offered load just above the target. Flat out (--rate 0) the 16
# clients offer ~4x what the server stores and take most of the CPU; the backlog then waits in
# every client's window, so acknowledgement latency measures the queue, not the server.
DEFAULT_RATE = 3_500.0


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 16
    duration: float = 180.0
    tags: int = 10
    rate: float = 0.0  # log() calls per second per client; 0 = flat out
    drain_timeout: float = 3600.0  # seconds each client's final flush may take
    verify_tags: int = 1  # tags per client read back whole and compared value by value
    max_memory_mb: float | None = None  # each client's in-memory budget before it spools (None: default)
    project: str = PROJECT


def tag_names(tags: int) -> list[str]:
    return [f"load/metric_{j:02d}" for j in range(tags)]


def client_offset(index: int) -> float:
    """Added to every value of client ``index``, so runs cannot be mistaken for each other (exact:
    a multiple of 1/64)."""
    return index / 64.0


def expected_values(index: int, tag: int, steps: np.ndarray) -> np.ndarray:
    """The values client ``index`` logged for tag number ``tag``, in the very float operations
    ``_client`` used, so they compare bit for bit."""
    return (steps.astype(np.float64) * 0.5 + client_offset(index)) + float(tag)


# -- the client process ------------------------------------------------------------------------------


@dataclass
class ClientReport:
    index: int
    run_id: str | None = None
    steps: int = 0  # log() calls that returned: each logged `tags` points
    points_logged: int = 0
    points_acked_in_window: int = 0
    points_acked: int = 0
    batches_acked: int = 0
    duplicates: int = 0
    reconnects: int = 0
    ack_latencies: list[float] = field(default_factory=list)
    latencies_truncated: bool = False
    flush_seconds: float = 0.0  # from the end of the window until flush() returned
    finished_at: float = 0.0  # time.monotonic() when finish() returned
    first_wall: float = 0.0
    last_wall: float = 0.0
    errors: list[str] = field(default_factory=list)


def _client(
    index: int,
    address: str,
    config: LoadConfig,
    spool_dir: str,
    ready: Any,
    go: Any,
    start_at: Any,
    logged: Any,
    acked: Any,
    reports: Any,
) -> None:
    """One training process: log flat out (or at ``config.rate``) until the window ends, then
    flush and finish, and report what it logged and what delivery saw."""
    os.environ["TRACKER_SPOOL_DIR"] = spool_dir
    import tracker_client as tracker

    report = ClientReport(index)
    run = None
    stop = threading.Event()
    try:
        max_memory = None if config.max_memory_mb is None else int(config.max_memory_mb * 2**20)
        run = tracker.init(
            project=config.project, name=f"client-{index:03d}", server=address, max_memory=max_memory
        )
        report.run_id = run.id
        ready.put((index, run.id))
        stats = run.delivery_stats()

        def publish_acks() -> None:
            while not stop.wait(REPORT_EVERY):
                acked[index] = stats.points_acked

        threading.Thread(target=publish_acks, daemon=True).start()
        if not go.wait(600):
            raise RuntimeError("no start signal within 600 s")
        start = start_at.value
        deadline = start + config.duration
        while time.monotonic() < start:
            time.sleep(0.0005)
        names = tag_names(config.tags)
        pairs = [(name, float(j)) for j, name in enumerate(names)]
        offset = client_offset(index)
        log = run.log
        step = 0
        report.first_wall = time.time()
        interval = CHECK_EVERY / config.rate if config.rate > 0 else 0.0
        while True:
            for _ in range(CHECK_EVERY):
                base = step * 0.5 + offset  # what a training loop computes: a few numbers per step
                log({name: base + j for name, j in pairs}, step=step)
                step += 1
            logged[index] = step * config.tags
            now = time.monotonic()
            if now >= deadline:
                break
            if interval:  # paced: the next group of calls starts on schedule
                ahead = start + (step // CHECK_EVERY) * interval - now
                if ahead > 0:
                    time.sleep(min(ahead, deadline - now))
        report.last_wall = time.time()
        report.steps = step
        report.points_logged = step * config.tags
        report.points_acked_in_window = stats.points_acked
        flush_from = time.monotonic()
        try:
            run.flush(timeout=config.drain_timeout)
        finally:
            report.flush_seconds = time.monotonic() - flush_from
        run.finish(timeout=config.drain_timeout)
        report.finished_at = time.monotonic()
    except BaseException:
        report.errors.append(traceback.format_exc())
        if run is not None:
            try:
                run.finish("failed", timeout=min(config.drain_timeout, 60.0))
            except BaseException:
                report.errors.append(traceback.format_exc())
    finally:
        stop.set()
        if run is not None:
            stats = run.delivery_stats()
            acked[index] = stats.points_acked
            report.points_acked = stats.points_acked
            report.batches_acked = stats.batches_acked
            report.duplicates = stats.duplicates
            report.reconnects = stats.reconnects
            report.ack_latencies = list(stats.ack_latencies)
            maxlen = stats.ack_latencies.maxlen
            report.latencies_truncated = maxlen is not None and stats.batches_acked > maxlen
        reports.put(dataclasses.asdict(report))


# -- sampling ----------------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int | None:
    """VmRSS of process ``pid`` (bytes), None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (its threads included), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds() -> float:
    """CPU time of every process named postgres on the machine (the benchmark's backends and any other)."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue
            if "(postgres)" in text:
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def directory_bytes(path: Path) -> int:
    total = 0
    with contextlib.suppress(OSError):
        for entry in os.scandir(path):
            with contextlib.suppress(OSError):
                total += entry.stat().st_size
    return total


@dataclass
class Sample:
    t: float  # seconds since the start of the logging window
    logged: int
    acked: int  # as the clients' delivery_stats() count them
    committed: int | None  # as the database counts them (None without a committed counter)
    server_rss: int | None
    server_cpu: float
    clients_cpu: float
    postgres_cpu: float
    machine_busy: float
    machine_total: float
    spool_bytes: int


class Sampler:
    def __init__(
        self,
        server_pid: int | None,
        client_pids: Sequence[int],
        spool_dir: Path,
        committed: Callable[[], int] | None = None,
    ) -> None:
        self.server_pid = server_pid
        self.committed = committed
        self.client_pids = list(client_pids)
        self.spool_dir = spool_dir
        self.samples: list[Sample] = []

    def take(self, t: float, logged: Sequence[int], acked: Sequence[int]) -> Sample:
        busy, total = machine_cpu_seconds()
        sample = Sample(
            t=t,
            logged=sum(logged),
            acked=sum(acked),
            committed=self.committed() if self.committed is not None else None,
            server_rss=rss_bytes(self.server_pid) if self.server_pid else None,
            server_cpu=cpu_seconds(self.server_pid) if self.server_pid else 0.0,
            clients_cpu=sum(cpu_seconds(pid) for pid in self.client_pids),
            postgres_cpu=postgres_cpu_seconds(),
            machine_busy=busy,
            machine_total=total,
            spool_bytes=directory_bytes(self.spool_dir),
        )
        self.samples.append(sample)
        return sample


# -- the driver ----------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    config: LoadConfig
    reports: list[ClientReport]
    samples: list[Sample]
    start: float  # time.monotonic() at the start of the logging window
    end_of_drain: float  # time.monotonic() when the last client's finish() returned
    errors: list[str]  # problems outside the clients (a client that died without a report, ...)

    @property
    def all_errors(self) -> list[str]:
        return self.errors + [f"client {r.index}: {e}" for r in self.reports for e in r.errors]


def run_load(
    address: str,
    config: LoadConfig,
    *,
    spool_dir: Path,
    server_pid: int | None = None,
    committed: Callable[[], int] | None = None,
    progress: bool = False,
) -> LoadResult:
    """Run ``config.clients`` client processes against the server at ``address`` and collect what
    they report, sampling every second: ``server_pid``'s memory and CPU when given, and
    ``committed()``, the points the database holds, when given."""
    ctx = mp.get_context("spawn")  # never fork a process that has loaded gRPC
    ready: Any = ctx.Queue()
    reports_q: Any = ctx.Queue()
    go = ctx.Event()
    start_at = ctx.Value("d", 0.0)
    logged = ctx.Array("q", config.clients, lock=False)
    acked = ctx.Array("q", config.clients, lock=False)
    spool_dir.mkdir(parents=True, exist_ok=True)
    procs = [
        ctx.Process(
            target=_client,
            args=(i, address, config, str(spool_dir), ready, go, start_at, logged, acked, reports_q),
            name=f"load-client-{i}",
            daemon=True,
        )
        for i in range(config.clients)
    ]
    errors: list[str] = []
    reports: dict[int, ClientReport] = {}
    sampler = Sampler(server_pid, [], spool_dir, committed)
    for proc in procs:
        proc.start()
    sampler.client_pids = [p.pid or 0 for p in procs]
    try:
        _wait_ready(procs, ready, reports_q, reports, errors)
        start = time.monotonic() + 0.2
        start_at.value = start
        go.set()
        time.sleep(max(0.0, start - time.monotonic()))
        sampler.take(0.0, logged, acked)  # the baseline: server RSS and CPU counters at the start
        end_of_drain = _supervise(procs, config, start, sampler, logged, acked, reports_q, reports, progress)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join(10)
    for i, proc in enumerate(procs):
        if i not in reports:
            errors.append(f"client {i} exited with code {proc.exitcode} without reporting")
            reports[i] = ClientReport(i)
    ordered = [reports[i] for i in range(config.clients)]
    if reports and all(r.finished_at for r in ordered):
        end_of_drain = max(r.finished_at for r in ordered)
    return LoadResult(config, ordered, sampler.samples, start, end_of_drain, errors)


def _wait_ready(
    procs: Sequence[Any], ready: Any, reports_q: Any, reports: dict[int, ClientReport], errors: list[str]
) -> None:
    """Every client has created its run (importing and connecting takes a while on 2 cores)."""
    waiting = set(range(len(procs)))
    deadline = time.monotonic() + 300
    while waiting:
        try:
            index, _run_id = ready.get(timeout=0.5)
            waiting.discard(index)
        except queue.Empty:
            pass
        with contextlib.suppress(queue.Empty):
            while True:  # a client that failed before it was ready reports instead
                report = ClientReport(**reports_q.get_nowait())
                reports[report.index] = report
                waiting.discard(report.index)
        for i in list(waiting):
            if not procs[i].is_alive():
                waiting.discard(i)
        if time.monotonic() > deadline:
            errors.append(f"clients {sorted(waiting)} were not ready within 300 s")
            return


def _supervise(
    procs: Sequence[Any],
    config: LoadConfig,
    start: float,
    sampler: Sampler,
    logged: Any,
    acked: Any,
    reports_q: Any,
    reports: dict[int, ClientReport],
    progress: bool,
) -> float:
    """Sample every second until every client has reported (or died); return when the last did."""
    give_up = start + config.duration + config.drain_timeout + 120
    k = 0
    last_report = time.monotonic()
    window_sampled = False
    while len(reports) < len(procs):
        k += 1
        t = k * SAMPLE_EVERY
        if not window_sampled and t >= config.duration - 1e-9:  # one sample exactly at the window's end
            window_sampled = True
            if t > config.duration + 1e-9:
                t = config.duration
                k -= 1
        target = start + t
        while True:
            with contextlib.suppress(queue.Empty):
                while True:
                    report = ClientReport(**reports_q.get_nowait())
                    reports[report.index] = report
                    last_report = time.monotonic()
            if len(reports) == len(procs):
                break
            now = time.monotonic()
            if now >= target:
                break
            time.sleep(min(0.05, target - now))
        if len(reports) == len(procs):
            break
        sample = sampler.take(t, logged, acked)
        if progress and k % 10 == 0:
            print(
                f"  {sample.t:6.0f} s: logged {sample.logged:>14,}  acked {sample.acked:>14,}  "
                f"server RSS {_mib(sample.server_rss)}",
                file=sys.stderr,
                flush=True,
            )
        if all(not p.is_alive() for p in procs if p.pid is not None) and len(reports) < len(procs):
            time.sleep(1.0)  # let the last reports through the queue
            with contextlib.suppress(queue.Empty):
                while True:
                    report = ClientReport(**reports_q.get_nowait())
                    reports[report.index] = report
            break
        if time.monotonic() > give_up:
            break
    sampler.take(time.monotonic() - start, logged, acked)
    return last_report


# -- verification ------------------------------------------------------------------------------------


@dataclass
class ClientCount:
    index: int
    run_id: str | None
    logged: int
    stored: int
    status: str
    problems: list[str]


@dataclass
class Verification:
    clients: list[ClientCount]
    total_logged: int
    total_stored: int
    missing: int  # points logged but not stored (summed over tags)
    duplicated: int  # points stored more often than logged (summed over tags)
    values_checked: int  # points compared step by step and value by value

    @property
    def problems(self) -> list[str]:
        return [f"client {c.index}: {p}" for c in self.clients for p in c.problems]

    @property
    def exact(self) -> bool:
        return not self.problems and self.total_logged == self.total_stored


def verify(address: str, result: LoadResult) -> Verification:
    """Count what the server stored for every client's run against what it logged."""
    import tracker_client as tracker

    config = result.config
    names = tag_names(config.tags)
    counts: list[ClientCount] = []
    missing = duplicated = checked = 0
    with tracker.Api(server=address) as api:
        for report in result.reports:
            problems: list[str] = []
            if report.run_id is None:
                counts.append(ClientCount(report.index, None, report.points_logged, 0, "-", ["no run"]))
                missing += report.points_logged
                continue
            status = api.run(report.run_id).status
            if status != "finished":
                problems.append(f"run status {status}, expected finished")
            by_tag = {t.tag: t for t in api.tags(report.run_id)}
            stored = 0
            for name in names:
                tag = by_tag.get(name)
                count = tag.count if tag is not None else 0
                stored += count
                if count != report.steps:
                    problems.append(f"tag {name}: {count:,} points stored, {report.steps:,} logged")
                    missing += max(0, report.steps - count)
                    duplicated += max(0, count - report.steps)
                elif tag is not None and report.steps and tag.summary is not None:
                    last = report.steps - 1
                    expected_last = expected_values(report.index, names.index(name), np.array([last]))[0]
                    if tag.summary.last_step != last or tag.summary.last_value != expected_last:
                        problems.append(
                            f"tag {name}: summary says last step {tag.summary.last_step} = "
                            f"{tag.summary.last_value!r}, expected {last} = {expected_last!r}"
                        )
            extra = sorted(set(by_tag) - set(names))
            if extra:
                problems.append(f"unexpected tags {extra}")
            for k in range(min(config.verify_tags, config.tags)):
                j = (report.index + k) % config.tags
                problems += _check_series(api, report, j, names[j])
                checked += report.steps
            counts.append(
                ClientCount(report.index, report.run_id, report.points_logged, stored, status, problems)
            )
    total_logged = sum(r.points_logged for r in result.reports)
    total_stored = sum(c.stored for c in counts)
    return Verification(counts, total_logged, total_stored, missing, duplicated, checked)


def _check_series(api: Any, report: ClientReport, j: int, name: str) -> list[str]:
    """One whole tag read back: steps 0..n-1 once each, every value bit for bit, wall times in the window."""
    assert report.run_id is not None
    series = api.scalars(report.run_id, name)
    steps = np.asarray(series.steps)
    if steps.size != report.steps:
        return [f"tag {name} read back: {steps.size:,} points, {report.steps:,} logged"]
    problems = []
    expected_steps = np.arange(report.steps, dtype=np.int64)
    if not np.array_equal(steps, expected_steps):
        wrong = int(np.flatnonzero(steps != expected_steps)[0])
        problems.append(f"tag {name}: step at position {wrong} is {steps[wrong]}, expected {wrong}")
    expected = expected_values(report.index, j, expected_steps)
    values = np.asarray(series.values)
    if values.view(np.int64).tobytes() != expected.view(np.int64).tobytes():
        wrong = int(np.flatnonzero(values.view(np.int64) != expected.view(np.int64))[0])
        problems.append(
            f"tag {name}: value of step {wrong} is {values[wrong]!r}, expected {expected[wrong]!r}"
        )
    walls = np.asarray(series.wall_times)
    if walls.size and (walls.min() < report.first_wall - 1 or walls.max() > report.last_wall + 1):
        problems.append(f"tag {name}: wall times {walls.min()}..{walls.max()} outside the logging window")
    return problems


# -- figures -------------------------------------------------------------------------------------------


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.1f} MiB"


def figures(result: LoadResult, verification: Verification, *, interval: float) -> dict[str, Any]:
    """Everything the table shows, as plain numbers (also what --json writes)."""
    config = result.config
    reports = result.reports
    window = [s for s in result.samples if 0 <= s.t <= config.duration + 1e-6]
    logged = sum(r.points_logged for r in reports)
    acked_in_window = sum(r.points_acked_in_window for r in reports)
    at_end = [s for s in window if abs(s.t - config.duration) < 1e-6]
    committed_in_window = at_end[0].committed if at_end else None
    drain_seconds = max(0.0, result.end_of_drain - (result.start + config.duration))
    total_seconds = max(1e-9, result.end_of_drain - result.start)
    latencies = np.array([x for r in reports for x in r.ack_latencies], dtype=np.float64)

    intervals: list[dict[str, Any]] = []
    samples = result.samples
    by_t = {round(s.t, 3): s for s in samples}
    edges = [round(k * interval, 3) for k in range(int(config.duration // interval + 1e-9) + 1)]
    for a, b in itertools.pairwise(edges):
        first, last = by_t.get(a), by_t.get(b)
        if first is None or last is None:
            continue
        seconds = b - a
        busy = last.machine_busy - first.machine_busy
        total = max(1e-9, last.machine_total - first.machine_total)
        cores = total / seconds  # machine CPU seconds per wall second = cores
        server = last.server_cpu - first.server_cpu
        clients = last.clients_cpu - first.clients_cpu
        postgres = last.postgres_cpu - first.postgres_cpu
        intervals.append(
            {
                "from": a,
                "to": b,
                "acked_per_s": (last.acked - first.acked) / seconds,
                "committed_per_s": (
                    (last.committed - first.committed) / seconds
                    if last.committed is not None and first.committed is not None
                    else None
                ),
                "logged_per_s": (last.logged - first.logged) / seconds,
                "server_rss": last.server_rss,
                "spool_bytes": last.spool_bytes,
                "cpu_cores": {
                    "server": server / seconds,
                    "clients": clients / seconds,
                    "postgres": postgres / seconds,
                    "other": max(0.0, busy - server - clients - postgres) / seconds,
                    "idle": max(0.0, total - busy) / seconds,
                    "machine": cores,
                },
            }
        )
    rates = [i["acked_per_s"] if i["committed_per_s"] is None else i["committed_per_s"] for i in intervals]
    in_window = acked_in_window if committed_in_window is None else committed_in_window

    rss = [s.server_rss for s in samples if s.server_rss is not None]
    window_rss = [s.server_rss for s in window if s.server_rss is not None]
    memory: dict[str, Any] = {"sampled": bool(rss)}
    if rss:
        third = len(window_rss) // 3
        middle = statistics.fmean(window_rss[third : 2 * third]) if third else float(window_rss[0])
        last_third = statistics.fmean(window_rss[2 * third :]) if third else float(window_rss[-1])
        memory.update(
            start=rss[0],
            max=max(rss),
            end=rss[-1],
            middle_third_mean=middle,
            last_third_mean=last_third,
            growth=last_third / middle - 1,
            flat=last_third <= middle * (1 + FLAT_TOLERANCE),
        )

    errors = result.all_errors
    delivery_errors = sum("DeliveryError" in e for e in errors)
    return {
        "config": dataclasses.asdict(config),
        "cores": os.cpu_count(),
        "points_logged": logged,
        "logged_per_s": logged / config.duration,
        "points_acked_in_window": acked_in_window,  # as delivery_stats() counts them
        "points_committed_in_window": committed_in_window,  # as the database counts them
        "sustained_per_s": in_window / config.duration,
        "interval_seconds": interval,
        "interval_min_per_s": min(rates) if rates else None,
        "interval_median_per_s": statistics.median(rates) if rates else None,
        "interval_max_per_s": max(rates) if rates else None,
        "backlog_at_window_end": logged - in_window,
        "points_acked": sum(r.points_acked for r in reports),
        "drain_seconds": drain_seconds,
        "end_to_end_per_s": verification.total_stored / total_seconds,
        "end_to_end_seconds": total_seconds,
        "spool_max_bytes": max((s.spool_bytes for s in samples), default=0),
        "ack_batches": int(latencies.size),
        "ack_latencies_truncated": any(r.latencies_truncated for r in reports),
        "ack_p50": float(np.percentile(latencies, 50)) if latencies.size else None,
        "ack_p99": float(np.percentile(latencies, 99)) if latencies.size else None,
        "ack_max": float(latencies.max()) if latencies.size else None,
        "memory": memory,
        "errors": errors,
        "client_exceptions": sum(len(r.errors) for r in reports),
        "delivery_errors": delivery_errors,
        "reconnects": sum(r.reconnects for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "total_logged": verification.total_logged,
        "total_stored": verification.total_stored,
        "missing": verification.missing,
        "duplicated": verification.duplicated,
        "values_checked": verification.values_checked,
        "exact": verification.exact,
        "count_problems": verification.problems,
        "intervals": intervals,
        "clients": [
            {
                "index": c.index,
                "run_id": c.run_id,
                "logged": c.logged,
                "stored": c.stored,
                "status": c.status,
                "problems": c.problems,
                "acked_in_window": r.points_acked_in_window,
                "flush_seconds": r.flush_seconds,
                "reconnects": r.reconnects,
                "duplicates": r.duplicates,
            }
            for c, r in zip(verification.clients, reports, strict=True)
        ],
    }


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_table(f: dict[str, Any], *, server_errors: Sequence[str] = ()) -> None:
    config = f["config"]
    mem = f["memory"]
    rows: list[tuple[str, str, str]] = []

    def row(measure: str, value: str, target: str = "") -> None:
        rows.append((measure, value, target))

    row("clients x tags per log() call", f"{config['clients']} x {config['tags']}")
    paced = f"{config['rate']:g} log() calls/s per client" if config["rate"] else "flat out"
    row("logging window", f"{config['duration']:g} s, {paced}")
    row("points logged (offered load)", f"{f['points_logged']:,} ({f['logged_per_s']:,.0f}/s)")
    counted = "committed" if f["points_committed_in_window"] is not None else "acked"
    row(
        f"sustained: {counted} in window / window",
        f"{f['sustained_per_s']:,.0f} pts/s",
        f">= {TARGET_RATE:,}: {_met(f['sustained_per_s'] >= TARGET_RATE)}",
    )
    if f["interval_min_per_s"] is not None:
        row(
            f"per {f['interval_seconds']:g} s {counted}: min / median / max",
            f"{f['interval_min_per_s']:,.0f} / {f['interval_median_per_s']:,.0f} / "
            f"{f['interval_max_per_s']:,.0f} pts/s",
        )
    row(f"backlog at window end (logged, not {counted})", f"{f['backlog_at_window_end']:,} points")
    row("client spool on disk, max", _mib(f["spool_max_bytes"]))
    row("drain: window end to last finish()", f"{f['drain_seconds']:,.1f} s")
    row("end to end: stored / (window + drain)", f"{f['end_to_end_per_s']:,.0f} pts/s")
    row(
        "ack latency p50 / p99 / max",
        f"{_fmt_s(f['ack_p50'])} / {_fmt_s(f['ack_p99'])} / {_fmt_s(f['ack_max'])}",
        f"p99 <= {TARGET_P99:g} s: {_met(f['ack_p99'] is not None and f['ack_p99'] <= TARGET_P99)}",
    )
    row(
        "  batches acked",
        f"{f['ack_batches']:,}" + (" (latencies: latest only)" if f["ack_latencies_truncated"] else ""),
    )
    if mem["sampled"]:
        row(
            "server RSS start / max / end",
            f"{_mib(mem['start'])} / {_mib(mem['max'])} / {_mib(mem['end'])}",
        )
        row(
            "server RSS mean, middle / last third of window",
            f"{_mib(mem['middle_third_mean'])} / {_mib(mem['last_third_mean'])} ({mem['growth']:+.1%})",
            f"flat: {_met(mem['flat'])}",
        )
    errors = len(f["errors"]) + len(server_errors)  # client exceptions included
    row(
        "errors (client exceptions / DeliveryError / server)",
        f"{f['client_exceptions']} / {f['delivery_errors']} / {len(server_errors)}",
        f"0: {_met(errors == 0)}",
    )
    row("reconnects / duplicate acks", f"{f['reconnects']} / {f['duplicates']}")
    row(
        "points acked per delivery_stats() (window / all)",
        f"{f['points_acked_in_window']:,} / {f['points_acked']:,}",
    )
    row(
        "FINAL COUNT logged / stored",
        f"{f['total_logged']:,} / {f['total_stored']:,}",
        f"equal: {_met(f['exact'])}",
    )
    row("  missing / duplicated points", f"{f['missing']:,} / {f['duplicated']:,}")
    row("  points compared value by value", f"{f['values_checked']:,}")

    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    print(f"\n{'measure':<{width}}  {'value':>{vwidth}}  target")
    print(f"{'-' * width}  {'-' * vwidth}  {'-' * 24}")
    for measure, value, target in rows:
        print(f"{measure:<{width}}  {value:>{vwidth}}  {target}")

    if f["intervals"]:
        print(
            f"\nper interval: points {counted} per second (and as delivery_stats() counts acks), "
            "logged per second, server RSS, client spool files, CPU in cores: server / clients / "
            "all postgres processes / everything else / idle"
        )
        print(
            f"{'interval':>13}  {counted + ' pts/s':>15}  {'acked pts/s':>12}  {'logged pts/s':>13}  "
            f"{'server RSS':>11}  {'spool':>11}  CPU"
        )
        for i in f["intervals"]:
            c = i["cpu_cores"]
            rate = i["acked_per_s"] if i["committed_per_s"] is None else i["committed_per_s"]
            print(
                f"{i['from']:>5.0f}-{i['to']:>5.0f} s  {rate:>15,.0f}  {i['acked_per_s']:>12,.0f}  "
                f"{i['logged_per_s']:>13,.0f}  {_mib(i['server_rss']):>11}  {_mib(i['spool_bytes']):>11}  "
                f"{c['server']:.2f} / {c['clients']:.2f} / {c['postgres']:.2f} / {c['other']:.2f} / "
                f"{c['idle']:.2f}"
            )

    print("\nper client: points logged / stored (acked in window, flush seconds)")
    for c in f["clients"]:
        mark = "ok" if not c["problems"] and c["logged"] == c["stored"] else "WRONG"
        print(
            f"  client {c['index']:>3} run {c['run_id']}: {c['logged']:>13,} / {c['stored']:>13,}  "
            f"({c['acked_in_window']:,}, {c['flush_seconds']:.1f} s)  {mark}"
        )
        for problem in c["problems"]:
            print(f"      {problem}")
    for error in [*f["errors"], *server_errors]:
        print(f"\nERROR: {error}")


# -- the server process and its database -------------------------------------------------------------


class CommittedPoints:
    """The scalar points the database holds, as the series summaries count them (each committed in
    the same transaction as the points): the server-side count of what was acknowledged, read on a
    connection of its own so it never waits behind the server's pool."""

    def __init__(self, database_url: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = psycopg.connect(url, autocommit=True)

    def __call__(self) -> int:
        row = self._conn.execute("SELECT coalesce(sum(count), 0) FROM metric_summaries").fetchone()
        return int(row[0]) if row is not None else 0

    def close(self) -> None:
        self._conn.close()


class ServerProcess:
    """`tracker db upgrade` then `tracker server` in its own process; its output is kept."""

    def __init__(self, database_url: str, extra_args: Sequence[str] = ()) -> None:
        cli = [sys.executable, "-m", "tracker_server.cli"]
        subprocess.run([*cli, "db", "upgrade", "--db", database_url], check=True, capture_output=True)
        self.proc = subprocess.Popen(
            [*cli, "server", "--db", database_url, "--port", "0", "--log-level", "WARNING", *extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._address: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            address = self._address.get(timeout=60)
        except queue.Empty:
            address = None
        if address is None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.lines))
        self.address = address
        self.pid = self.proc.pid

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if match := re.search(r"listening on (\S+:\d+)", line):
                self._address.put(match.group(1))
        self._address.put(None)

    def errors(self) -> list[str]:
        """Lines of the server's log that report an error."""
        return [
            f"server: {line.rstrip()}" for line in self.lines if re.search(r"ERROR|CRITICAL|Traceback", line)
        ]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=120)


# -- the command -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    defaults = LoadConfig()
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clients", type=int, default=defaults.clients, help="client processes (default %(default)s)"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds every client logs for (default %(default)s); a few seconds works too",
    )
    parser.add_argument(
        "--tags", type=int, default=defaults.tags, help="metrics per log() call (default %(default)s)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="log() calls per second per client (default %(default)g); 0 is flat out, as fast as the "
        "client allows, which measures the most the server stores rather than latency",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=defaults.drain_timeout,
        help="seconds each client's final flush() may take after the window (default %(default)s)",
    )
    parser.add_argument(
        "--verify-tags",
        type=int,
        default=defaults.verify_tags,
        help="tags per client read back whole and compared value by value (default %(default)s); "
        "every tag's count is checked regardless",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds per row of the per-interval table (default 10, or 1 for windows under 30 s)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TRACKER_BENCH_DATABASE_URL", DEFAULT_SERVER_URL),
        help="PostgreSQL server to create the scratch database on (default TRACKER_BENCH_DATABASE_URL, "
        f"else {DEFAULT_SERVER_URL})",
    )
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `tracker server`, e.g. --server-arg=--db-pool-size=4 (repeatable)",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write every figure (and per-second samples) to PATH"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.tags < 1:
        parser.error("--clients and --tags must be >= 1 and --duration > 0")
    config = LoadConfig(
        clients=args.clients,
        duration=args.duration,
        tags=args.tags,
        rate=args.rate,
        drain_timeout=args.drain_timeout,
        verify_tags=args.verify_tags,
    )
    interval = args.interval or (10.0 if config.duration >= 30 else 1.0)
    interval = min(interval, config.duration)

    from ingest import scratch_database  # the benchmarks' shared scratch database (run as a script)

    spool_dir = Path(tempfile.mkdtemp(prefix="tracker_load_spool_"))
    server_errors: list[str] = []
    try:
        with scratch_database(args.database_url) as database_url:
            server = ServerProcess(database_url, args.server_arg)
            committed = CommittedPoints(database_url)
            try:
                if not args.quiet:
                    print(
                        f"server pid {server.pid} at {server.address}; starting {config.clients} clients",
                        file=sys.stderr,
                        flush=True,
                    )
                result = run_load(
                    server.address,
                    config,
                    spool_dir=spool_dir,
                    server_pid=server.pid,
                    committed=committed,
                    progress=not args.quiet,
                )
                verification = verify(server.address, result)
            finally:
                committed.close()
                code = server.stop()
            server_errors = server.errors()
            if code != 0:
                server_errors.append(f"server exited with code {code}")
    finally:
        shutil.rmtree(spool_dir, ignore_errors=True)

    f = figures(result, verification, interval=interval)
    f["server_errors"] = server_errors
    print(
        f"\nTracker load benchmark: {config.clients} client processes x {config.tags} tags per log(), "
        f"{config.duration:g} s, PostgreSQL, {os.cpu_count()} cores"
    )
    print_table(f, server_errors=server_errors)
    if args.json:
        f["samples"] = [dataclasses.asdict(s) for s in result.samples]
        Path(args.json).write_text(json.dumps(f, indent=1, default=_json_default))
    failed = not f["exact"] or f["errors"] or server_errors
    return 1 if failed else 0


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(type(value).__name__)


if __name__ == "__main__":
    sys.exit(main())

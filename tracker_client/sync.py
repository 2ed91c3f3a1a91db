"""``tracker sync``: deliver spool files (offline runs, and what a run could not deliver) to a server.

A spool is replayed in its order through the same delivery as live logging. Syncing is
idempotent and resumable: the run is found again by (project, name), the server's cursor for the
spool's writer says which batches it already holds, and those are skipped; a batch sent again
anyway (its acknowledgement was lost) is recognised by the server and not stored twice. Calls are
idempotent too, except a purge, which is replayed only if no later batch of the spool was stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import EncodedBatch
from tracker_client.channel import Connection
from tracker_client.delivery import Backoff, Delivery, is_transient
from tracker_client.errors import TrackerError
from tracker_client.sender import CALLS
from tracker_client.spool import Kind, Record, locked, read_spool


class SpoolBusyError(TrackerError):
    """A running process is still writing this spool file."""


@dataclass
class SyncReport:
    path: Path
    project: str
    name: str
    run_id: str = ""
    batches_sent: int = 0
    batches_on_server: int = 0  # already stored before this sync (skipped)
    points_sent: int = 0
    calls: int = 0
    finished: bool = False  # the spool ended with the run's finish
    torn_at: int | None = None  # offset of a damaged last record that was not replayed


def sync_file(
    path: Path,
    *,
    server: str | None = None,
    token: str | None = None,
    timeout: float = 60.0,
    keep: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Deliver the spool file ``path``; delete it afterwards unless ``keep``.

    ``progress(bytes_done, bytes_total)`` is called as records are delivered. Raises
    SpoolBusyError if a live process holds the file, and TrackerError if the server refuses the
    data or stays unreachable for ``timeout`` seconds; a later sync resumes where this one stopped.
    """
    with locked(path) as free:
        if not free:
            raise SpoolBusyError(f"{path} is still being written by a running process; sync it after it ends")
        contents = read_spool(path)
        start = contents.start
        report = SyncReport(path, start["project"], start["name"], torn_at=contents.torn_at)
        total = path.stat().st_size
        with Connection(server or start.get("server"), token=token, timeout=timeout) as connection:
            _replay(connection, contents.records, start, report, timeout, total, progress)
    if not keep:
        path.unlink()
    return report


def _replay(
    connection: Connection,
    records: list[tuple[Record, int]],
    start: dict[str, Any],
    report: SyncReport,
    timeout: float,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    created = _call(
        connection, "CreateRun", pb.CreateRunRequest(project=report.project, name=report.name), timeout
    )
    run_id = created.run.id
    report.run_id = run_id
    writer_id = start["writer_id"]
    cursor = _call(connection, "GetCursor", pb.GetCursorRequest(run_id=run_id, writer_id=writer_id), timeout)
    stored = int(cursor.last_seq)
    run_id_field = pb.WriteBatchBytes(run_id=run_id).SerializeToString()  # appended: the last value wins
    delivery = Delivery(connection, name=f"tracker-sync-{run_id}", ack_timeout=timeout)
    try:
        for record, offset in records:
            kind, seq, body = record.kind, record.seq, record.body
            if kind is Kind.BATCH:
                if seq <= stored:
                    report.batches_on_server += 1
                    continue
                points = _points(body)
                if not delivery.submit(EncodedBatch(seq, body + run_id_field, points), timeout=timeout):
                    delivery.raise_failure()
                report.batches_sent += 1
                report.points_sent += points
            else:
                if kind is Kind.PURGE and seq < stored:
                    continue  # done before: a batch made after it is stored
                delivery.wait_all(timeout)
                name, request_type = CALLS[kind]
                request = request_type.FromString(body)
                request.run_id = run_id
                _call(connection, name, request, timeout)
                report.calls += 1
                report.finished = kind is Kind.FINISH
            if progress is not None:
                progress(offset, total)
        delivery.close(timeout)
    finally:
        delivery.stop()
    if not report.finished:  # the process that wrote the spool died before finishing the run
        _call(
            connection, "FinishRun", pb.FinishRunRequest(run_id=run_id, status=pb.RUN_STATUS_FAILED), timeout
        )
    if progress is not None:
        progress(total, total)


def _points(payload: bytes) -> int:
    batch = pb.WriteBatchBytes.FromString(payload)
    points = sum(len(raw) for column in batch.scalars for raw in column.steps) // 8
    for columns, field in (
        (batch.histograms, "histograms"),
        (batch.pr_curves, "curves"),
        (batch.texts, "texts"),
    ):
        points += sum(len(getattr(column, field)) for column in columns)
    return points


def _call(connection: Connection, name: str, request: Any, timeout: float) -> Any:
    """A unary call, retried on transient failures with backoff for up to ``timeout`` seconds."""
    service = connection.ingest if name == "GetCursor" else connection.runs
    method = getattr(service, name)
    deadline = time.monotonic() + timeout
    backoff = Backoff()
    while True:
        try:
            return connection.call(method, request, timeout=max(1.0, deadline - time.monotonic()))
        except TrackerError as error:
            if not is_transient(error) or time.monotonic() >= deadline:
                raise
            time.sleep(min(backoff.delay(), max(0.0, deadline - time.monotonic())))

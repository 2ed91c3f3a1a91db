"""Columnar buffers that log() appends to, and their encoding into numbered WriteBatch messages.

Points are kept per tag in three ``array`` columns (steps int64, wall times and values float64):
appending is the whole cost of ``log()``. Encoding copies each column's machine bytes straight into
the wire-identical ``WriteBatchBytes`` view, splitting columns so every message stays under the
size budget; no Python float is created per point.
"""

from __future__ import annotations

import sys
import threading
from array import array
from dataclasses import dataclass

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.records import Histogram

# gRPC's default message limit is 4 MiB; keep clear of it.
MAX_BATCH_BYTES = 3 * 1024 * 1024
_POINT_BYTES = 24  # step + wall time + value
_COLUMN_OVERHEAD = 32  # field keys and length prefixes of one ScalarColumnBytes, excluding the tag


class Column:
    """The buffered points of one scalar tag."""

    __slots__ = ("steps", "values", "wall_times")

    def __init__(self) -> None:
        self.steps = array("q")
        self.wall_times = array("d")
        self.values = array("d")

    def __len__(self) -> int:
        return len(self.steps)

    def pop(self) -> None:
        """Remove the newest point (used to undo a log() call that failed part-way)."""
        self.steps.pop()
        self.wall_times.pop()
        self.values.pop()

    def trim(self) -> None:
        """Drop the part of a point whose append failed half-way, so the three columns agree."""
        n = min(len(self.steps), len(self.wall_times), len(self.values))
        for array_ in (self.steps, self.wall_times, self.values):
            del array_[n:]


class PointBuffer:
    """What the caller's thread appends to and the sender drains; every access holds ``lock``."""

    __slots__ = ("columns", "histograms", "lock", "points")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.columns: dict[str, Column] = {}
        self.histograms: dict[str, list[Histogram]] = {}
        self.points = 0

    def drain(self) -> tuple[dict[str, Column], dict[str, list[Histogram]]]:
        """Take everything buffered so far, leaving the buffer empty (the dicts stay the same objects)."""
        with self.lock:
            columns = dict(self.columns)
            self.columns.clear()
            histograms = dict(self.histograms)
            self.histograms.clear()
            self.points = 0
        return columns, histograms


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """One serialised WriteBatchBytes, ready to send and to resend until acknowledged."""

    seq: int
    payload: bytes
    points: int


def _le(column: array, start: int, end: int) -> bytes:  # type: ignore[type-arg]
    """Little-endian bytes of ``column[start:end]``."""
    view = memoryview(column)[start:end]
    if sys.byteorder == "little":
        return view.tobytes()
    swapped = array(column.typecode, view)
    swapped.byteswap()
    return swapped.tobytes()


def histogram_to_proto(histogram: Histogram) -> pb.Histogram:
    return pb.Histogram(
        step=histogram.step,
        wall_time=histogram.wall_time,
        count=histogram.count,
        min=histogram.min,
        max=histogram.max,
        sum=histogram.sum,
        sum_squares=histogram.sum_squares,
        bucket_limits=histogram.bucket_limits.tolist(),
        bucket_counts=histogram.bucket_counts.tolist(),
        nan_count=histogram.nan_count,
    )


def encode_batches(
    *,
    run_id: str,
    writer_id: str,
    first_seq: int,
    columns: dict[str, Column],
    histograms: dict[str, list[Histogram]],
    max_bytes: int = MAX_BATCH_BYTES,
) -> list[EncodedBatch]:
    """Encode drained buffers as batches numbered from ``first_seq``, each under ``max_bytes``."""
    batches: list[EncodedBatch] = []
    message = pb.WriteBatchBytes(run_id=run_id, writer_id=writer_id)
    header = 64 + len(run_id) + len(writer_id)
    size, points = header, 0

    def seal() -> None:
        nonlocal message, size, points
        if size > header:
            message.seq = first_seq + len(batches)
            batches.append(EncodedBatch(message.seq, message.SerializeToString(), points))
            message = pb.WriteBatchBytes(run_id=run_id, writer_id=writer_id)
            size, points = header, 0

    for tag, column in columns.items():
        overhead = _COLUMN_OVERHEAD + len(tag.encode())
        start, n = 0, len(column)
        while start < n:
            room = (max_bytes - size - overhead) // _POINT_BYTES
            if room <= 0 and size > header:
                seal()
                continue
            room = max(room, 1)
            end = min(n, start + room)
            message.scalars.add(
                tag=tag,
                steps=_le(column.steps, start, end),
                wall_times=_le(column.wall_times, start, end),
                values=_le(column.values, start, end),
            )
            size += overhead + (end - start) * _POINT_BYTES
            points += end - start
            start = end
    for tag, items in histograms.items():
        target: pb.HistogramColumn | None = None
        for histogram in items:
            encoded = histogram_to_proto(histogram)
            cost = encoded.ByteSize() + len(tag.encode()) + 16
            if size + cost > max_bytes and size > header:
                seal()
                target = None
            if target is None:
                target = message.histograms.add(tag=tag)
            target.histograms.append(encoded)
            size += cost
            points += 1
    seal()
    return batches

"""The buffer that log() appends to, and its encoding into numbered WriteBatch messages.

Appending to ``array`` buffers is the whole cost of ``log()``. Draining regroups the buffered calls
into per-tag columns with numpy, and encoding copies each column's machine bytes straight into the
wire-identical ``WriteBatchBytes`` view, splitting columns so every message stays under the size
budget; no Python float is created per point.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from google.protobuf.message import Message

from tracker_client._proto import tracker_pb2 as pb

# gRPC's default message limit is 4 MiB; keep clear of it.
MAX_BATCH_BYTES = 3 * 1024 * 1024
_POINT_BYTES = 24  # step + wall time + value
_COLUMN_OVERHEAD = 32  # field keys and length prefixes of one ScalarColumnBytes, excluding the tag

# WriteBatch fields holding entries, each with its column message's repeated field.
ENTRY_FIELDS = {"histograms": "histograms", "pr_curves": "curves", "texts": "texts"}
Entries = Mapping[str, Mapping[str, list[Message]]]

Int64Array = npt.NDArray[np.int64]
Float64Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Column:
    """The drained points of one tag, in logged order: three numpy arrays of equal length."""

    steps: Int64Array
    wall_times: Float64Array
    values: Float64Array

    def __len__(self) -> int:
        return int(self.steps.size)


class PointBuffer:
    """What ``log()`` appends to and the sender drains; every access holds ``lock``.

    A ``log()`` call appends its step, wall time and layout once, and its values, in the layout's
    tag order, to one flat array. A layout is the tuple of tags a call logged, numbered per drain;
    training loops log the same tags call after call, so a call costs the same few appends however
    many metrics it carries, and ``drain()`` turns the calls into per-tag columns with numpy.
    """

    __slots__ = (
        "entries",
        "last_keys",
        "last_layout",
        "layout_ids",
        "layout_tags",
        "layouts",
        "lock",
        "points",
        "steps",
        "values",
        "wall_times",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.steps = array("q")
        self.wall_times = array("d")
        self.layout_ids = array("i")
        self.values = array("d")
        self.layouts: dict[tuple[str, ...], int] = {}
        self.layout_tags: list[tuple[str, ...]] = []
        self.last_keys: tuple[str, ...] | None = None
        self.last_layout = -1
        # Histograms, PR curves and texts, already wire messages: WriteBatch field -> tag -> entries.
        self.entries: dict[str, dict[str, list[Message]]] = {field: {} for field in ENTRY_FIELDS}
        self.points = 0

    def add_entry(self, field: str, tag: str, entry: Message) -> None:
        """Buffer one histogram, PR curve or text (caller holds ``lock``)."""
        self.entries[field].setdefault(tag, []).append(entry)
        self.points += 1

    def layout(self, keys: tuple[str, ...]) -> int:
        """The id of layout ``keys`` in this drain, registering it if new (caller holds ``lock``)."""
        layout = self.layouts.get(keys)
        if layout is None:
            layout = self.layouts[keys] = len(self.layout_tags)
            self.layout_tags.append(keys)
        self.last_keys, self.last_layout = keys, layout
        return layout

    def drain(self) -> tuple[dict[str, Column], Entries]:
        """Take everything buffered so far, scalars as per-tag columns, leaving the buffer empty."""
        with self.lock:
            steps, walls, ids, values = self.steps, self.wall_times, self.layout_ids, self.values
            layout_tags, entries = self.layout_tags, self.entries
            self._reset()
        return columns_from_calls(steps, walls, ids, values, layout_tags), entries


def columns_from_calls(
    steps: array,  # type: ignore[type-arg]
    wall_times: array,  # type: ignore[type-arg]
    layout_ids: array,  # type: ignore[type-arg]
    values: array,  # type: ignore[type-arg]
    layout_tags: list[tuple[str, ...]],
) -> dict[str, Column]:
    """Regroup buffered calls into one column per tag, each in the order its points were logged."""
    if not len(steps):
        return {}
    call_steps = np.frombuffer(steps, dtype=np.int64)
    call_walls = np.frombuffer(wall_times, dtype=np.float64)
    flat = np.frombuffer(values, dtype=np.float64)
    if len(layout_tags) == 1:  # the usual case: every call logged the same tags
        (tags,) = layout_tags
        return {tag: Column(call_steps, call_walls, flat[j :: len(tags)]) for j, tag in enumerate(tags)}
    ids = np.frombuffer(layout_ids, dtype=np.intc)
    sizes = np.array([len(tags) for tags in layout_tags], dtype=np.int64)[ids]
    offsets = np.cumsum(sizes) - sizes
    pieces: dict[str, list[tuple[Int64Array, Float64Array]]] = {}
    for layout, tags in enumerate(layout_tags):
        calls = np.flatnonzero(ids == layout)
        first = offsets[calls]
        for j, tag in enumerate(tags):
            pieces.setdefault(tag, []).append((calls, flat[first + j]))
    columns = {}
    for tag, parts in pieces.items():
        if len(parts) == 1:
            calls, tag_values = parts[0]
        else:  # the tag appears in several layouts: back into call order
            calls = np.concatenate([c for c, _ in parts])
            tag_values = np.concatenate([v for _, v in parts])
            order = np.argsort(calls, kind="stable")
            calls, tag_values = calls[order], tag_values[order]
        columns[tag] = Column(call_steps[calls], call_walls[calls], tag_values)
    return columns


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """One serialised WriteBatchBytes, ready to send and to resend until acknowledged."""

    seq: int
    payload: bytes
    points: int


def _le(values: npt.NDArray[Any], start: int, end: int) -> bytes:
    """Little-endian bytes of ``values[start:end]`` (int64 or float64)."""
    return values[start:end].astype("<i8" if values.dtype.kind == "i" else "<f8", copy=False).tobytes()


def encode_batches(
    *,
    run_id: str,
    writer_id: str,
    first_seq: int,
    columns: Mapping[str, Column],
    entries: Entries | None = None,
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
                steps=[_le(column.steps, start, end)],
                wall_times=[_le(column.wall_times, start, end)],
                values=[_le(column.values, start, end)],
            )
            size += overhead + (end - start) * _POINT_BYTES
            points += end - start
            start = end
    for field, by_tag in (entries or {}).items():
        for tag, items in by_tag.items():
            target: Any = None
            for entry in items:
                cost = entry.ByteSize() + len(tag.encode()) + 16
                if size + cost > max_bytes and size > header:
                    seal()
                    target = None
                if target is None:
                    target = getattr(message, field).add(tag=tag)
                getattr(target, ENTRY_FIELDS[field]).append(entry)
                size += cost
                points += 1
    seal()
    return batches

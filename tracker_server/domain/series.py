"""Reading scalar series: in full, or downsampled, one or many at a time.

A series is read from its chunks. When only a downsampled view of a long series is asked for and
the series is in step order (chunks sorted and not overlapping: the usual training loop), its
chunks' block digests stand in for its points, so 10,000,000 points cost about a megabyte of
digests instead of 240 MB of arrays; chunks cut by the step range are read and digested on the fly.
Anything else reads the points and downsamples them (``domain.downsample``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sqlalchemy import Connection

from tracker_server.domain.downsample import (
    DIGEST_BLOCK,
    chunk_digest,
    digests_from_bytes,
    downsample,
    downsample_blocks,
)
from tracker_server.domain.errors import InvalidArgument
from tracker_server.domain.model import ScalarSeries
from tracker_server.store import reads as store
from tracker_server.store.engine import Database
from tracker_server.store.reads import ChunkInfo

MAX_SERIES_PER_REQUEST = 10_000


@dataclass(frozen=True, slots=True)
class Window:
    """What to read of each series: a step range and a point budget (0: every point)."""

    start_step: int | None = None
    end_step: int | None = None
    max_points: int = 0

    def check(self) -> None:
        if self.start_step is not None and self.end_step is not None and self.start_step > self.end_step:
            raise InvalidArgument(f"start_step {self.start_step} is after end_step {self.end_step}")
        if self.max_points < 0 or 0 < self.max_points < 4:
            raise InvalidArgument(f"max_points must be 0 (every point) or at least 4, got {self.max_points}")

    def inside(self, chunk: ChunkInfo) -> bool:
        return (self.start_step is None or chunk.min_step >= self.start_step) and (
            self.end_step is None or chunk.max_step <= self.end_step
        )


def _in_step_order(chunks: Sequence[ChunkInfo]) -> bool:
    return all(c.sorted for c in chunks) and all(b.min_step >= a.max_step for a, b in pairwise(chunks))


def _use_digests(chunks: Sequence[ChunkInfo], window: Window) -> bool:
    """Digests pay off when every bucket spans at least a block on average."""
    if not window.max_points or not _in_step_order(chunks):
        return False
    return sum(c.n for c in chunks) >= (window.max_points // 4) * DIGEST_BLOCK


def read_series(conn: Connection, series_ids: Sequence[int], window: Window) -> dict[int, ScalarSeries]:
    """The points of each series within the window (downsampled when it has a budget), by series id."""
    window.check()
    chunks_of: dict[int, list[ChunkInfo]] = {series: [] for series in series_ids}
    for chunk in store.chunk_index(conn, series_ids, start_step=window.start_step, end_step=window.end_step):
        chunks_of[chunk.series_id].append(chunk)
    by_digest = {s for s, chunks in chunks_of.items() if _use_digests(chunks, window)}
    raw_ids = [
        c.id for s, chunks in chunks_of.items() for c in chunks if s not in by_digest or not window.inside(c)
    ]
    digest_ids = [c.id for s in by_digest for c in chunks_of[s] if window.inside(c)]
    points = store.chunk_points(conn, raw_ids)
    digests = store.chunk_digests(conn, digest_ids)
    out = {}
    for series, chunks in chunks_of.items():
        if series in by_digest:
            out[series] = _from_digests(chunks, points, digests, window)
        else:
            out[series] = _from_points([points[c.id] for c in chunks], window)
    fallback = [s for s, result in out.items() if result.total_points <= window.max_points and s in by_digest]
    if fallback:  # the range left too few points for digests: read them after all
        out.update(read_series(conn, fallback, Window(window.start_step, window.end_step, 0)))
    return out


def _arrays(chunks: Sequence[tuple[bytes, bytes, bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.frombuffer(b"".join(c[0] for c in chunks), dtype="<i8"),
        np.frombuffer(b"".join(c[1] for c in chunks), dtype="<f8"),
        np.frombuffer(b"".join(c[2] for c in chunks), dtype="<f8"),
    )


def _clip(
    steps: np.ndarray, walls: np.ndarray, values: np.ndarray, window: Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if window.start_step is None and window.end_step is None:
        return steps, walls, values
    keep = np.ones(steps.size, dtype=bool)
    if window.start_step is not None:
        keep &= steps >= window.start_step
    if window.end_step is not None:
        keep &= steps <= window.end_step
    return steps[keep], walls[keep], values[keep]


def _from_points(chunks: Sequence[tuple[bytes, bytes, bytes]], window: Window) -> ScalarSeries:
    steps, walls, values = _clip(*_arrays(chunks), window)
    if steps.size > 1 and (steps[1:] < steps[:-1]).any():
        order = np.argsort(steps, kind="stable")  # equal steps keep their logged order
        steps, walls, values = steps[order], walls[order], values[order]
    total = int(steps.size)
    if window.max_points and total > window.max_points:
        steps, walls, values = downsample(steps, walls, values, max_points=window.max_points)
    return ScalarSeries(steps=steps, wall_times=walls, values=values, total_points=total)


def _from_digests(
    chunks: Sequence[ChunkInfo],
    points: dict[int, tuple[bytes, bytes, bytes]],
    digests: dict[int, bytes],
    window: Window,
) -> ScalarSeries:
    parts = []
    for chunk in chunks:
        if window.inside(chunk):
            parts.append(digests_from_bytes(digests[chunk.id]))
        else:  # cut by the range: digest the part inside
            steps, walls, values = _clip(*_arrays([points[chunk.id]]), window)
            if steps.size:
                parts.append(digests_from_bytes(chunk_digest(steps, walls, values)))
    blocks = np.concatenate(parts) if parts else None
    total = int(blocks["count"].sum()) if blocks is not None else 0
    if blocks is None or total <= window.max_points:  # the caller reads the points instead
        empty = np.zeros(0)
        return ScalarSeries(steps=empty.astype(np.int64), wall_times=empty, values=empty, total_points=total)
    steps, walls, values = downsample_blocks(blocks, max_points=window.max_points)
    return ScalarSeries(steps=steps, wall_times=walls, values=values, total_points=total)


def read_many(
    db: Database, run_ids: Sequence[str], tags: Sequence[str], window: Window
) -> list[tuple[str, str, ScalarSeries]]:
    """Every run x every tag with points in the window, in the order given (runs, then tags)."""
    if len(run_ids) * len(tags) > MAX_SERIES_PER_REQUEST:
        raise InvalidArgument(
            f"{len(run_ids)} runs x {len(tags)} tags is more than {MAX_SERIES_PER_REQUEST} series per request"
        )
    window.check()
    with db.read() as conn:
        ids = store.scalar_series_ids(conn, run_ids, tags)
        series = read_series(conn, list(ids.values()), window)
    return [
        (run_id, tag, series[ids[(run_id, tag)]])
        for run_id in dict.fromkeys(run_ids)
        for tag in dict.fromkeys(tags)
        if (run_id, tag) in ids and series[ids[(run_id, tag)]].total_points
    ]

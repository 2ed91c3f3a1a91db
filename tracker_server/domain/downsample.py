"""Downsampling a scalar series for plotting, from its points or from per-block digests of them.

The contract: with ``max_points > 0``, a series holding more points than that is cut, in step order,
into ``max_points // 4`` consecutive buckets, and each bucket is represented by its own points with
the smallest value, the largest value (both ignoring NaN), its first NaN and its last point
(deduplicated, in step order). Spikes, NaN and the final value always survive; every point returned
is a real point. A series with at most ``max_points`` points comes back whole. +Inf and -Inf are
ordinary extremes; among equal extremes the first occurrence is kept.

A digest summarises each block of ``DIGEST_BLOCK`` consecutive points of a chunk by exactly the
points the contract could pick from it, so a very long series can be downsampled from its digests
alone, with buckets made of whole blocks, without reading its points.

Everything here is vectorised: no Python loop runs per point, per bucket or per block.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

Steps: TypeAlias = npt.NDArray[np.int64]
Floats: TypeAlias = npt.NDArray[np.float64]
Points: TypeAlias = tuple[Steps, Floats, Floats]
"""(steps, wall_times, values), equal lengths, in step order."""

DIGEST_BLOCK = 1024
"""Points per digest block; a chunk's last block may be shorter."""

DIGEST_DTYPE = np.dtype(
    [
        ("first_step", "<i8"),
        ("last_step", "<i8"),
        ("count", "<i8"),
        ("min_value", "<f8"),  # smallest value ignoring NaN (first occurrence); NaN when all NaN
        ("min_step", "<i8"),  # -1 when absent
        ("min_wall", "<f8"),  # NaN when absent
        ("max_value", "<f8"),  # largest value ignoring NaN (first occurrence); NaN when all NaN
        ("max_step", "<i8"),
        ("max_wall", "<f8"),
        ("last_value", "<f8"),  # the block's last point
        ("last_wall", "<f8"),
        ("nan_step", "<i8"),  # the block's first NaN; -1 / NaN when none
        ("nan_wall", "<f8"),
        ("min_index", "<i8"),  # position inside the block; -1 is THE marker of absence
        ("max_index", "<i8"),
        ("nan_index", "<i8"),
    ]
)
"""One record per block, little-endian, 128 bytes."""


def _buckets(max_points: int) -> int:
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer) or max_points < 4:
        raise ValueError(f"max_points must be an integer >= 4, got {max_points!r}")
    return int(max_points) // 4


def _points(steps: Steps, wall_times: Floats, values: Floats) -> Points:
    steps = np.asarray(steps, dtype=np.int64)
    wall_times = np.asarray(wall_times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if steps.ndim != 1 or steps.shape != wall_times.shape or steps.shape != values.shape:
        raise ValueError(
            "steps, wall_times and values must be 1-D arrays of one length, got shapes "
            f"{steps.shape}, {wall_times.shape}, {values.shape}"
        )
    return steps, wall_times, values


def _row_picks(rows: Floats) -> tuple[Steps, Steps, Steps]:
    """Per row of a 2-D array: the column of the first smallest and of the first largest value
    (ignoring NaN) and of the first NaN, each -1 when the row has none."""
    lo = np.fmin.reduce(rows, axis=1)
    hi = np.fmax.reduce(rows, axis=1)
    nan = np.isnan(rows)
    min_col = np.argmax(rows == lo[:, None], axis=1).astype(np.int64)
    max_col = np.argmax(rows == hi[:, None], axis=1).astype(np.int64)
    nan_col = np.argmax(nan, axis=1).astype(np.int64)
    min_col[np.isnan(lo)] = -1
    max_col[np.isnan(hi)] = -1
    nan_col[~nan[np.arange(rows.shape[0]), nan_col]] = -1
    return min_col, max_col, nan_col


def _rows(values: Floats, starts: Steps, width: int) -> Floats:
    """The buckets ``values[starts[i]:starts[i + 1]]`` (the last one to the end) as rows of ``width``.

    Every bucket is ``width`` or ``width - 1`` points long and the last one is ``width`` long. A
    shorter row's last column (the next bucket's first point) is overwritten with the row's own
    first value, which changes none of its picks: an equal extreme or a NaN at column 0 occurs first.
    """
    if starts.size * width == values.size:
        return values.reshape(starts.size, width)  # every bucket is width long: a view, no copy
    rows = sliding_window_view(values, width)[starts]  # a copy, so writable
    short = np.append(starts[1:], values.size) - starts < width
    rows[short, -1] = rows[short, 0]
    return rows


def downsample(steps: Steps, wall_times: Floats, values: Floats, *, max_points: int) -> Points:
    """The series reduced by the contract (module docstring); ValueError when max_points < 4.

    The input is ordered by step (equal steps allowed). Bucket b of B = max_points // 4 covers the
    points [floor(b*n/B), floor((b+1)*n/B)). A series with at most max_points points is returned
    as is (the same arrays).
    """
    buckets = _buckets(max_points)
    steps, wall_times, values = _points(steps, wall_times, values)
    n = values.size
    if n <= max_points:
        return steps, wall_times, values
    starts = np.arange(buckets, dtype=np.int64) * n // buckets
    width = -(-n // buckets)  # the last bucket is always the widest: n - floor((B-1)n/B) = ceil(n/B)
    min_col, max_col, nan_col = _row_picks(_rows(values, starts, width))
    last = np.append(starts[1:], n) - 1
    cols = np.stack((min_col, max_col, nan_col))
    index = np.unique(np.concatenate(((starts + cols)[cols >= 0], last)))
    return steps[index], wall_times[index], values[index]


def chunk_digest(steps: Steps, wall_times: Floats, values: Floats) -> bytes:
    """The digests (``DIGEST_DTYPE`` records) of one chunk's points, in order, per DIGEST_BLOCK points."""
    steps, wall_times, values = _points(steps, wall_times, values)
    n = values.size
    count = -(-n // DIGEST_BLOCK)
    if count == 0:
        return b""
    starts = np.arange(count, dtype=np.int64) * DIGEST_BLOCK
    if n % DIGEST_BLOCK:  # pad the short last block to a full row with copies of its first value
        padded = np.empty(count * DIGEST_BLOCK, dtype=np.float64)
        padded[:n] = values
        padded[n:] = values[starts[-1]]
        rows = padded.reshape(count, DIGEST_BLOCK)
    else:
        rows = values.reshape(count, DIGEST_BLOCK)
    min_col, max_col, nan_col = _row_picks(rows)
    ends = np.minimum(starts + DIGEST_BLOCK, n)
    out = np.empty(count, dtype=DIGEST_DTYPE)
    out["first_step"] = steps[starts]
    out["last_step"] = steps[ends - 1]
    out["count"] = ends - starts
    out["last_value"] = values[ends - 1]
    out["last_wall"] = wall_times[ends - 1]
    for name, col, with_value in (("min", min_col, True), ("max", max_col, True), ("nan", nan_col, False)):
        present = col >= 0
        at = np.where(present, starts + col, 0)
        out[f"{name}_index"] = col
        out[f"{name}_step"] = np.where(present, steps[at], -1)
        out[f"{name}_wall"] = np.where(present, wall_times[at], np.nan)
        if with_value:
            out[f"{name}_value"] = np.where(present, values[at], np.nan)
    return out.tobytes()


def digests_from_bytes(raw: bytes) -> npt.NDArray[np.void]:
    """The ``DIGEST_DTYPE`` records in ``raw`` (read-only, no copy); ValueError on a partial record."""
    if len(raw) % DIGEST_DTYPE.itemsize:
        raise ValueError(f"{len(raw)} bytes is not a whole number of {DIGEST_DTYPE.itemsize}-byte digests")
    return np.frombuffer(raw, dtype=DIGEST_DTYPE)


def _first_blocks(ends: Steps, buckets: int) -> Steps:
    """The first block of each bucket: the block boundary nearest to each ideal cut floor(b*n/B)
    (the earlier one on a tie), empty buckets dropped; every block its own bucket when few."""
    blocks = ends.size
    if blocks <= buckets:
        return np.arange(blocks, dtype=np.int64)
    n = int(ends[-1])
    edges = np.concatenate(([0], ends))  # edges[j]: the points before block j
    targets = np.arange(1, buckets, dtype=np.int64) * n // buckets
    above = np.searchsorted(edges, targets)  # edges[above - 1] < target <= edges[above]
    cut = above - (targets - edges[above - 1] <= edges[above] - targets)
    return np.unique(np.concatenate(([0], cut[cut < blocks])))


def downsample_blocks(blocks: npt.NDArray[np.void], *, max_points: int) -> Points:
    """The contract computed from the digests of a step-ordered series (all its blocks, in order).

    Buckets are runs of whole blocks: B = max_points // 4 of them, cut at the block boundaries
    nearest to floor(b*n/B), or one per block when there are at most B blocks. Each bucket's picks
    are exactly those ``downsample`` would make for the same bucket boundaries. A series of at most
    max_points points must be read and returned whole instead (ValueError here: a digest cannot).
    """
    buckets = _buckets(max_points)
    if blocks.dtype != DIGEST_DTYPE or blocks.ndim != 1:
        raise ValueError("blocks must be a 1-D array of DIGEST_DTYPE records")
    counts = blocks["count"].astype(np.int64)
    if (counts < 1).any():
        raise ValueError("every digest block holds at least one point")
    ends = np.cumsum(counts)
    n = int(ends[-1]) if ends.size else 0
    if n <= max_points:
        raise ValueError(f"the series holds {n} <= max_points points: return its points whole")
    first = _first_blocks(ends, buckets)
    sizes = np.diff(np.append(first, blocks.size))
    index = np.arange(blocks.size, dtype=np.int64)
    offsets = ends - counts  # the points before each block

    def first_block(candidate: npt.NDArray[np.bool_]) -> Steps:
        """Per bucket, its first block where ``candidate`` holds; -1 when none."""
        found = np.minimum.reduceat(np.where(candidate, index, blocks.size), first)
        return np.where(found < blocks.size, found, -1)

    picks = []  # (block per bucket or -1, field prefix)
    for name in ("min", "max"):
        present = blocks[f"{name}_index"] >= 0
        value = np.where(present, blocks[f"{name}_value"], np.nan)
        best = (np.fmin if name == "min" else np.fmax).reduceat(value, first)
        picks.append((first_block(present & (value == np.repeat(best, sizes))), name))
    picks.append((first_block(blocks["nan_index"] >= 0), "nan"))
    picks.append((np.append(first[1:], blocks.size) - 1, "last"))

    parts = [_picked(blocks, offsets, block[block >= 0], name) for block, name in picks]
    _, order = np.unique(np.concatenate([p[0] for p in parts]), return_index=True)
    return (
        np.concatenate([p[1] for p in parts])[order],
        np.concatenate([p[2] for p in parts])[order],
        np.concatenate([p[3] for p in parts])[order],
    )


def _picked(
    blocks: npt.NDArray[np.void], offsets: Steps, block: Steps, name: str
) -> tuple[Steps, Steps, Floats, Floats]:
    """The ``name`` points ("min", "max", "nan" or "last") of the given blocks: their positions in
    the series, steps, wall times and values."""
    chosen = blocks[block]
    if name == "last":
        index = chosen["count"] - 1
        step, value = chosen["last_step"], chosen["last_value"]
    else:
        index = chosen[f"{name}_index"]
        step = chosen[f"{name}_step"]
        value = np.full(block.size, np.nan) if name == "nan" else chosen[f"{name}_value"]
    return (
        (offsets[block] + index).astype(np.int64),
        step.astype(np.int64),
        chosen[f"{name}_wall"].astype(np.float64),
        value.astype(np.float64),
    )

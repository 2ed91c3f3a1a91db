"""Downsampling (domain.downsample): both paths against a plain-Python reading of the contract.

``reference`` picks, for explicit bucket boundaries, each bucket's first smallest and first largest
value ignoring NaN, its first NaN and its last point, with a loop anyone can check by eye.
``downsample`` must equal it with buckets [floor(b*n/B), floor((b+1)*n/B)); ``downsample_blocks``
with the bucket boundaries its digests allow (``block_bounds``, the cutting rule written out again).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt
import pytest

from tracker_server.domain.downsample import (
    DIGEST_BLOCK,
    DIGEST_DTYPE,
    chunk_digest,
    digests_from_bytes,
    downsample,
    downsample_blocks,
)

Series = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]
KINDS = ("walk", "nan_runs", "all_nan_stretches", "inf_spikes", "duplicate_steps", "constant", "ties")


def reference(values: npt.NDArray[np.float64], bounds: list[int]) -> list[int]:
    """The indices the contract keeps, bucket i being [bounds[i], bounds[i + 1])."""
    kept: set[int] = set()
    for lo, hi in itertools.pairwise(bounds):
        smallest = largest = first_nan = None
        for i in range(lo, hi):
            v = float(values[i])
            if math.isnan(v):
                if first_nan is None:
                    first_nan = i
                continue
            if smallest is None or v < values[smallest]:
                smallest = i
            if largest is None or v > values[largest]:
                largest = i
        kept.update(i for i in (smallest, largest, first_nan, hi - 1) if i is not None)
    return sorted(kept)


def even_bounds(n: int, max_points: int) -> list[int]:
    buckets = max_points // 4
    return [b * n // buckets for b in range(buckets)] + [n]


def block_bounds(counts: list[int], max_points: int) -> list[int]:
    """Bucket boundaries (in points) for blocks of these sizes: the block boundary nearest to each
    ideal cut floor(b*n/B), the earlier one on a tie; every block its own bucket when few."""
    edges = [0]
    for c in counts:
        edges.append(edges[-1] + c)
    buckets = max_points // 4
    if len(counts) <= buckets:
        return edges
    n = edges[-1]
    cuts = {0, n}
    for b in range(1, buckets):
        target = b * n // buckets
        cuts.add(min(edges, key=lambda e: (abs(e - target), e)))
    return sorted(cuts)


def make_series(rng: np.random.Generator, n: int, kind: str) -> Series:
    steps = np.arange(n, dtype=np.int64) * 3 + 10
    walls = 1.7e9 + np.cumsum(rng.uniform(0.001, 1.0, n))  # distinct: a point is known by its wall time
    values = rng.standard_normal(n).cumsum()
    if kind == "nan_runs" and n:
        for _ in range(max(1, n // 50)):
            at = int(rng.integers(0, n))
            values[at : at + int(rng.integers(1, 12))] = np.nan
    elif kind == "all_nan_stretches" and n:
        for _ in range(3):
            at = int(rng.integers(0, n))
            values[at : at + max(1, n // 8)] = np.nan
    elif kind == "inf_spikes" and n:
        for _ in range(max(1, n // 100)):
            values[int(rng.integers(0, n))] = rng.choice([np.inf, -np.inf, 1e300, -1e300])
    elif kind == "duplicate_steps":
        steps = np.sort(rng.integers(0, max(1, n // 4), n)).astype(np.int64)
        values[rng.random(n) < 0.05] = np.nan
    elif kind == "constant":
        values = np.full(n, 2.5)
    elif kind == "ties":
        values = rng.integers(-2, 3, n).astype(np.float64)
        values[rng.random(n) < 0.1] = np.nan
        values[rng.random(n) < 0.05] = -0.0
    return steps, walls, values


def digests(series: Series, chunk_sizes: list[int]) -> npt.NDArray[np.void]:
    """The series cut into chunks of these sizes (the rest in one last chunk), each digested alone."""
    steps, walls, values = series
    cuts = np.cumsum(chunk_sizes)
    cuts = cuts[cuts < steps.size].tolist()
    parts = [
        chunk_digest(s, w, v)
        for s, w, v in zip(np.split(steps, cuts), np.split(walls, cuts), np.split(values, cuts), strict=True)
    ]
    return digests_from_bytes(b"".join(parts))


def block_counts(chunk_sizes: list[int], n: int) -> list[int]:
    """The sizes of the digest blocks of the series cut as ``digests`` cuts it."""
    counts, start = [], 0
    for size in [*chunk_sizes, n]:
        chunk = min(size, n - start)
        counts += [DIGEST_BLOCK] * (chunk // DIGEST_BLOCK) + (
            [chunk % DIGEST_BLOCK] if chunk % DIGEST_BLOCK else []
        )
        start += chunk
        if start == n:
            return counts
    raise AssertionError("unreachable")


def assert_picks(out: Series, series: Series, index: list[int]) -> None:
    for got, full in zip(out, series, strict=True):
        np.testing.assert_array_equal(got, full[index])
        assert got.dtype == full.dtype


def assert_contract(out: Series, series: Series, max_points: int) -> None:
    """What holds whatever the buckets: few enough real points, in order, the final one among them."""
    steps, walls, values = series
    got_steps, got_walls, got_values = out
    assert got_steps.size <= max_points
    where = np.searchsorted(walls, got_walls)  # wall times are distinct and increasing
    assert (where < walls.size).all()
    np.testing.assert_array_equal(walls[where], got_walls)
    np.testing.assert_array_equal(steps[where], got_steps)
    np.testing.assert_array_equal(values[where], got_values)
    assert (np.diff(where) > 0).all()
    assert where[-1] == walls.size - 1


@pytest.mark.parametrize("kind", KINDS)
def test_downsample_equals_the_reference(kind: str) -> None:
    rng = np.random.default_rng(sum(map(ord, kind)))
    cases = [(5, 4), (6, 5), (9, 8), (17, 7), (101, 100), (99, 100), (100, 100), (1000, 10), (1000, 2001)]
    cases += [(int(rng.integers(5, 6000)), int(rng.integers(4, 400))) for _ in range(25)]
    for n, max_points in cases:
        series = make_series(rng, n, kind)
        out = downsample(*series, max_points=max_points)
        if n <= max_points:
            assert_picks(out, series, list(range(n)))
            continue
        assert_picks(out, series, reference(series[2], even_bounds(n, max_points)))
        assert_contract(out, series, max_points)


def test_short_series_come_back_whole() -> None:
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 4, 7, 8):
        series = make_series(rng, n, "nan_runs")
        out = downsample(*series, max_points=8)
        for got, full in zip(out, series, strict=True):
            np.testing.assert_array_equal(got, full)


@pytest.mark.parametrize("max_points", [-1, 0, 1, 3])
def test_max_points_below_four_is_refused(max_points: int) -> None:
    series = make_series(np.random.default_rng(0), 10, "walk")
    with pytest.raises(ValueError, match="max_points"):
        downsample(*series, max_points=max_points)
    with pytest.raises(ValueError, match="max_points"):
        downsample_blocks(digests(series, []), max_points=max_points)


def test_arrays_of_different_lengths_are_refused() -> None:
    steps, walls, values = make_series(np.random.default_rng(0), 10, "walk")
    with pytest.raises(ValueError, match="one length"):
        downsample(steps, walls[:-1], values, max_points=4)
    with pytest.raises(ValueError, match="one length"):
        chunk_digest(steps, walls, values[:-1])


@pytest.mark.parametrize("spike", [np.nan, np.inf, -np.inf, 1e12, -1e12])
def test_a_single_nan_or_spike_anywhere_survives(spike: float) -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    steps, walls, values = make_series(rng, n, "walk")
    values = np.clip(values, -1e6, 1e6)
    for at in (0, 1, 4_999, 12_345, n - 2, n - 1):
        spiked = values.copy()
        spiked[at] = spike
        series = (steps, walls, spiked)
        for out in (
            downsample(*series, max_points=40),
            downsample_blocks(digests(series, []), max_points=40),
        ):
            assert_contract(out, series, 40)
            assert walls[at] in out[1]


def test_chunk_digest_records_each_blocks_picks() -> None:
    rng = np.random.default_rng(11)
    n = 3 * DIGEST_BLOCK + 300
    steps, walls, values = make_series(rng, n, "ties")
    values[DIGEST_BLOCK : 2 * DIGEST_BLOCK] = np.nan  # the second block is all NaN
    values[5] = np.nan  # the first block has a NaN too
    values[-200:] = np.inf  # the short last block's largest value: its first +Inf
    raw = chunk_digest(steps, walls, values)
    assert DIGEST_DTYPE.itemsize == 128
    assert all(DIGEST_DTYPE[name].str[0] == "<" for name in DIGEST_DTYPE.names or ())
    assert len(raw) == 4 * DIGEST_DTYPE.itemsize
    blocks = digests_from_bytes(raw)
    for b, block in enumerate(blocks):
        lo, hi = b * DIGEST_BLOCK, min((b + 1) * DIGEST_BLOCK, n)
        picks = reference(values, [lo, hi])
        assert block["first_step"] == steps[lo] and block["last_step"] == steps[hi - 1]
        assert block["count"] == hi - lo
        assert block["last_value"] == values[hi - 1] or np.isnan(values[hi - 1])
        assert block["last_wall"] == walls[hi - 1]
        finite = [i for i in range(lo, hi) if not np.isnan(values[i])]
        nans = [i for i in range(lo, hi) if np.isnan(values[i])]
        if finite:
            smallest = min(finite, key=lambda i: (values[i], i))
            largest = min(finite, key=lambda i: (-values[i], i))
            assert (block["min_index"], block["min_step"], block["min_wall"]) == (
                smallest - lo,
                steps[smallest],
                walls[smallest],
            )
            assert block["min_value"] == values[smallest]
            assert (block["max_index"], block["max_step"], block["max_wall"]) == (
                largest - lo,
                steps[largest],
                walls[largest],
            )
            assert block["max_value"] == values[largest]
            assert {smallest, largest} <= set(picks)
        else:
            assert block["min_index"] == block["max_index"] == -1
            assert block["min_step"] == block["max_step"] == -1
            assert np.isnan(
                [block["min_value"], block["min_wall"], block["max_value"], block["max_wall"]]
            ).all()
        if nans:
            assert (block["nan_index"], block["nan_step"], block["nan_wall"]) == (
                nans[0] - lo,
                steps[nans[0]],
                walls[nans[0]],
            )
        else:
            assert block["nan_index"] == block["nan_step"] == -1 and np.isnan(block["nan_wall"])
    assert blocks[3]["max_index"] == 300 - 200
    assert chunk_digest(steps[:0], walls[:0], values[:0]) == b""
    with pytest.raises(ValueError, match="whole number"):
        digests_from_bytes(raw[:-1])


@pytest.mark.parametrize("kind", KINDS)
def test_downsample_blocks_equals_the_reference(kind: str) -> None:
    rng = np.random.default_rng(100 + sum(map(ord, kind)))
    cases: list[tuple[int, list[int], int]] = [
        (40_000, [], 40),  # one chunk, whole blocks of 1024 but the last
        (40_000, [1500, 700, 5000, 1, 1024, 2048, 3000], 37),  # chunk boundaries off the block grid
        (5_000, [300] * 20, 100),  # more blocks than buckets, blocks of uneven size
        (5_000, [2500], 4000),  # blocks <= buckets: one bucket per block
        (3 * DIGEST_BLOCK, [], 4),  # a single bucket
    ]
    for _ in range(6):
        n = int(rng.integers(2_000, 30_000))
        sizes = [int(s) for s in rng.integers(1, 4_000, int(rng.integers(0, 10)))]
        cases.append((n, sizes, int(rng.integers(4, 120))))
    for n, chunk_sizes, max_points in cases:
        series = make_series(rng, n, kind)
        blocks = digests(series, chunk_sizes)
        counts = block_counts(chunk_sizes, n)
        assert blocks["count"].tolist() == counts
        out = downsample_blocks(blocks, max_points=max_points)
        assert_picks(out, series, reference(series[2], block_bounds(counts, max_points)))
        assert_contract(out, series, max_points)


def test_both_paths_agree_when_buckets_fall_on_block_boundaries() -> None:
    rng = np.random.default_rng(5)
    for kind in KINDS:
        series = make_series(rng, 64 * DIGEST_BLOCK, kind)
        for max_points in (4, 7, 8, 35, 128, 259):  # B divides the 64 blocks: identical buckets
            by_points = downsample(*series, max_points=max_points)
            by_blocks = downsample_blocks(digests(series, [7 * DIGEST_BLOCK]), max_points=max_points)
            for a, b in zip(by_points, by_blocks, strict=True):
                np.testing.assert_array_equal(a, b)


def test_downsample_blocks_refuses_a_series_short_enough_to_return_whole() -> None:
    series = make_series(np.random.default_rng(0), 2000, "walk")
    with pytest.raises(ValueError, match="whole"):
        downsample_blocks(digests(series, []), max_points=2000)
    with pytest.raises(ValueError, match="whole"):
        downsample_blocks(digests_from_bytes(b""), max_points=4)
    assert downsample_blocks(digests(series, []), max_points=1999)[0].size <= 1999

"""Views of a series for plotting, end to end (client, real gRPC server, SQLite and PostgreSQL):
downsampled scalar series (read from points or from the chunks' block digests), many series in one
call, histograms re-binned to shared buckets, and distributions.

Every expectation is computed here, in plain Python (numpy only for bookkeeping), from the contract
in proto/tracker/v1/tracker.proto and the reading rules in tracker_server/domain/histograms.py; the
server's own downsampling and histogram code is never called for an expected value.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Literal

import grpc
import numpy as np
import pytest
from sqlalchemy import select

import tracker_client as tracker
from tracker_client import records
from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_server.store.engine import Database
from tracker_server.store.schema import ScalarChunk, Series

BLOCK = 1024  # points per digest block (the brief, tracker_server/domain/downsample.py)
NEVER = 3600.0  # flush_interval: batches leave only on flush(), so the test decides the chunks
NAN, INF = math.nan, math.inf
LARGEST = 1.7976931348623157e308
BASIS_POINTS: tuple[int, ...] = tuple(getattr(tracker, "BASIS_POINTS", records.BASIS_POINTS))
ReadPath = Literal["points", "blocks", "either"]


# ---------------------------------------------------------------------------------------------
# Logging and reading helpers


def log_points(
    run: tracker.Run,
    tag: str,
    steps: Sequence[int],
    values: Sequence[float],
    *,
    flush_after: Iterable[int] = (),
) -> None:
    """Log one point per call, flushing after the given numbers of points (and at the end)."""
    flush_at = set(flush_after)
    for i, (step, value) in enumerate(zip(steps, values, strict=True), 1):
        run.log({tag: value}, step=step)
        if i in flush_at:
            run.flush()
    run.flush()


def in_step_order(steps: Sequence[int], values: Sequence[float]) -> tuple[list[int], list[float]]:
    """What a full read must return: the points ordered by step, equal steps in logged order."""
    order = sorted(range(len(steps)), key=steps.__getitem__)  # sorted() is stable
    return [steps[i] for i in order], [values[i] for i in order]


def bits(values: Iterable[float]) -> bytes:
    """Bit-exact comparison, NaN included."""
    return np.asarray(list(values) if not isinstance(values, np.ndarray) else values, "<f8").tobytes()


def assert_same_series(got: tracker.ScalarSeries, want: tracker.ScalarSeries) -> None:
    assert got.steps.tolist() == want.steps.tolist()
    assert bits(got.values) == bits(want.values)
    assert bits(got.wall_times) == bits(want.wall_times)
    assert got.total_points == want.total_points


def chunks_of(db: Database, run_id: str, tag: str) -> list[tuple[int, bool, np.ndarray]]:
    """The scalar chunks of a series in write order: (points, sorted flag, steps)."""
    query = (
        select(ScalarChunk.n, ScalarChunk.sorted, ScalarChunk.steps)
        .join(Series, Series.id == ScalarChunk.series_id)
        .where(Series.run_id == run_id, Series.tag == tag, Series.kind == "scalar")
        .order_by(ScalarChunk.id)
    )
    with db.read() as conn:
        rows = conn.execute(query).all()
    return [(int(n), bool(ordered), np.frombuffer(bytes(steps), "<i8")) for n, ordered, steps in rows]


def block_cuts(
    db: Database, run_id: str, tag: str, start: int | None = None, end: int | None = None
) -> set[int]:
    """Where the 1,024-point blocks of a step-ordered series begin, as positions among the points in
    [start, end]: every chunk's points in the range are cut into blocks from their first one (a
    chunk cut by the range is digested on the fly from its first point inside)."""
    cuts, offset = set(), 0
    for _, _, steps in chunks_of(db, run_id, tag):
        inside = int(
            np.count_nonzero(
                (steps >= (start if start is not None else -1))
                & (steps <= (end if end is not None else np.iinfo(np.int64).max))
            )
        )
        cuts.update(range(offset, offset + inside, BLOCK))
        offset += inside
    cuts.add(offset)
    return cuts


# ---------------------------------------------------------------------------------------------
# The downsampling contract, computed here


def bucket_picks(values: Sequence[float], start: int, end: int) -> set[int]:
    """The contract's picks of the bucket values[start:end]: the first smallest and the first largest
    value (NaN ignored), the first NaN, the last point."""
    lo = hi = nan = None
    for i in range(start, end):
        v = values[i]
        if math.isnan(v):
            if nan is None:
                nan = i
            continue
        if lo is None or v < values[lo]:
            lo = i
        if hi is None or v > values[hi]:
            hi = i
    return {i for i in (lo, hi, nan, end - 1) if i is not None}


def bucket_picks_fast(values: np.ndarray, start: int, end: int) -> set[int]:
    """``bucket_picks`` with numpy (argmin and argmax return the first occurrence), for searching."""
    segment = values[start:end]
    nan = np.isnan(segment)
    out = {end - 1}
    if nan.any():
        out.add(start + int(nan.argmax()))
    real = np.flatnonzero(~nan)
    if real.size:
        out.add(start + int(real[segment[real].argmin()]))
        out.add(start + int(real[segment[real].argmax()]))
    return out


def reference_indices(values: Sequence[float], max_points: int) -> list[int]:
    """The positions kept when buckets are index ranges [floor(b*n/B), floor((b+1)*n/B))."""
    n = len(values)
    if n <= max_points:
        return list(range(n))
    buckets = max_points // 4
    kept: set[int] = set()
    for b in range(buckets):
        kept |= bucket_picks(values, b * n // buckets, (b + 1) * n // buckets)
    return sorted(kept)


def fewest_buckets(values: np.ndarray, kept: Sequence[int], *, longest: int, cuts: set[int] | None) -> int:
    """The fewest consecutive buckets, each at most ``longest`` points and starting at a position in
    ``cuts`` (anywhere when None), whose contract picks are exactly ``kept``; a huge number when no
    such cutting exists. A bucket ends just after a kept point (its last point is always kept)."""
    n = len(values)
    bounds = [0, *(i + 1 for i in kept if cuts is None or i + 1 in cuts or i + 1 == n)]
    fewest = {0: 0}
    for end in bounds[1:]:
        options = [
            fewest[start] + 1
            for start in bounds
            if start in fewest
            and 0 < end - start <= longest
            and set(kept[bisect.bisect_left(kept, start) : bisect.bisect_left(kept, end)])
            == bucket_picks_fast(values, start, end)
        ]
        if options:
            fewest[end] = min(options)
    return fewest.get(n, 1 << 60)


def positions_in(full: tracker.ScalarSeries, got: tracker.ScalarSeries) -> list[int]:
    """Where each returned point sits in the full series (same step, value bits and wall time, in
    order); fails when a returned point is not a real point or the order is wrong."""
    value_bits = full.values.view(np.int64)
    out: list[int] = []
    after = 0
    for step, wall, value in zip(got.steps, got.wall_times, got.values.view(np.int64), strict=True):
        lo = max(after, int(np.searchsorted(full.steps, step, "left")))
        hi = int(np.searchsorted(full.steps, step, "right"))
        match = next(
            (i for i in range(lo, hi) if value_bits[i] == value and full.wall_times[i] == wall), None
        )
        assert match is not None, f"returned point (step {step}) is not a point of the series, in order"
        out.append(match)
        after = match + 1
    return out


def check_view(
    full: tracker.ScalarSeries,
    got: tracker.ScalarSeries,
    max_points: int,
    *,
    path: ReadPath,
    cuts: set[int] | None = None,
) -> None:
    """``got`` (read with ``max_points``) against ``full`` (every point of the same range).

    "points": exactly the index-bucket reference. "blocks": explained by at most max_points // 4
    buckets of whole blocks (cut only at ``cuts``). "either": one or the other.
    """
    n = len(full)
    assert got.total_points == n
    if n <= max_points:
        assert_same_series(got, full)
        return
    kept = positions_in(full, got)
    values = full.values
    assert len(kept) <= max_points
    assert (np.diff(got.steps) >= 0).all()
    assert kept[-1] == n - 1, "the final point always survives"
    nan = np.isnan(values)
    if nan.any():
        assert int(np.argmax(nan)) in kept, "the first NaN survives"
    if not nan.all():
        real = np.flatnonzero(~nan)
        assert int(real[np.argmin(values[real])]) in kept, "the global minimum survives"
        assert int(real[np.argmax(values[real])]) in kept, "the global maximum survives"
    buckets = max_points // 4
    by_points = kept == reference_indices(values.tolist(), max_points)
    if path == "points":
        assert by_points, "not the index-bucket reference"
        return
    if path == "either" and by_points:
        return
    # Digest buckets are runs of whole blocks cut near floor(b*n/B): at most a block longer.
    longest = -(-n // buckets) + BLOCK
    used = fewest_buckets(values, kept, longest=longest, cuts=cuts)
    assert used <= buckets, (
        f"{len(kept)} points are not the picks of <= {buckets} buckets of <= {longest} points"
        + (" cut at block boundaries" if cuts is not None else "")
    )


def test_the_checker_catches_wrong_answers() -> None:
    """The property check above is not vacuous."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=3000)
    values[1234] = NAN
    steps = np.arange(3000, dtype=np.int64)
    full = tracker.ScalarSeries("r", "t", steps, values, steps * 1.0, 3000)

    def view(kept: Sequence[int]) -> tracker.ScalarSeries:
        index = np.array(sorted(kept))
        return tracker.ScalarSeries("r", "t", steps[index], values[index], steps[index] * 1.0, 3000)

    as_list = values.tolist()
    for start, end in rng.integers(0, 3000, size=(200, 2)).tolist():
        if start < end:
            assert bucket_picks(as_list, start, end) == bucket_picks_fast(values, start, end)
    good = reference_indices(as_list, 40)
    check_view(full, view(good), 40, path="points")
    check_view(full, view(good), 40, path="either")
    check_view(full, view(good), 40, path="blocks")  # index buckets are contiguous buckets too
    blocks = sorted(set().union(*(bucket_picks(as_list, a, min(a + BLOCK, 3000)) for a in (0, 1024, 2048))))
    check_view(full, view(blocks), 40, path="blocks", cuts={0, 1024, 2048, 3000})
    with pytest.raises(AssertionError):
        check_view(full, view(blocks), 40, path="points")
    for wrong in (good[:-1], [i for i in good if i != 1234], [*good, 7], good[1:]):
        with pytest.raises(AssertionError):
            check_view(full, view(wrong), 40, path="either")
    with pytest.raises(AssertionError):  # the index-bucket picks cannot be cut at block boundaries
        check_view(full, view(good), 40, path="blocks", cuts={0, 1024, 2048, 3000})


# ---------------------------------------------------------------------------------------------
# Scalars: short series and series just above the budget (read from points)


def test_short_and_just_longer_series_follow_the_reference(address: str) -> None:
    rng = np.random.default_rng(11)
    lengths = {"a": 1, "b": 7, "c": 40, "d": 41, "e": 45, "f": 57, "g": 163, "h": 1000, "i": 1023}
    logged: dict[str, tuple[list[int], list[float]]] = {}
    with tracker.init(project="views", name="short", server=address, flush_interval=NEVER) as run:
        for tag, n in lengths.items():
            values = rng.normal(size=n).round(1).tolist()  # rounding makes ties between extremes
            for i in range(0, n, 17):
                values[i] = NAN
            if n > 30:
                values[n // 3] = INF
                values[n // 2] = -INF
                values[n // 2 + 1] = -INF  # a tie: the first one is kept
                values[n - 5 : n - 2] = [-0.0, 0.0, -0.0]
            steps = list(range(n))
            if n > 10:
                steps[5] = steps[4]  # a step logged twice (the next one skipped)
            log_points(run, tag, steps, values)
            logged[tag] = in_step_order(steps, values)
        run_id = run.id

    with tracker.Api(server=address) as api:
        for tag, (steps, values) in logged.items():
            full = api.scalars(run_id, tag)
            assert full.steps.tolist() == steps and bits(full.values) == bits(values)
            assert full.total_points == len(steps) and not full.downsampled
            for max_points in (4, 5, 7, 8, 40, 41, 43, 100, 1000, 5000):
                got = api.scalars(run_id, tag, max_points=max_points)
                # Under max_points // 4 * 1,024 points the server reads the points: the reference.
                check_view(full, got, max_points, path="points")
                assert got.downsampled == (len(steps) > max_points)
        whole = api.scalars(run_id, "c", max_points=40)
        assert len(whole) == 40 and whole.total_points == 40 and not whole.downsampled


# ---------------------------------------------------------------------------------------------
# Scalars: long step-ordered series (block digests), step ranges through chunks


def long_series(rng: np.random.Generator, n: int) -> tuple[list[int], list[float]]:
    walk = np.cumsum(rng.normal(size=n)) * 0.05
    values = np.clip(walk + rng.normal(scale=0.5, size=n), -2.0, 2.0).round(2).tolist()  # ties at +-2
    values[1000] = NAN
    values[20_000:27_000] = [NAN] * 7000  # a NaN stretch longer than a bucket
    values[8000] = INF
    values[33_333] = -INF
    values[44_000] = 1e300
    values[44_500] = 1e300  # an equal spike in the same bucket: the first one is kept
    values[15_000:15_010] = [-0.0, 0.0] * 5
    steps = list(range(n))
    for i in (5000, 12_345, 30_000, 41_000, 49_999):  # logged twice; 12,345 and 41,000 across a flush
        steps[i] = steps[i - 1]
        values[i] = float(i)
    return steps, values


def test_long_series_downsampled_from_block_digests_keep_the_contract(address: str, db: Database) -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    steps, values = long_series(rng, n)
    zeros = np.abs(rng.normal(size=12_000)).round(1)  # smallest value 0, as 0.0 and -0.0
    zeros[::7] = 0.0
    zeros[3::11] = -0.0
    with tracker.init(project="views", name="long", server=address, flush_interval=NEVER) as run:
        for i in range(12_000):
            run.log({"zeros": float(zeros[i])}, step=i)
        log_points(run, "loss", steps, values, flush_after=(12_345, 30_000, 41_000, 49_200, 49_700))
        run_id = run.id

    layout = [(count, ordered) for count, ordered, _ in chunks_of(db, run_id, "loss")]
    # Large batches make chunks of their own; the 500-point one is extended by the last 300.
    assert layout == [(12_345, True), (17_655, True), (11_000, True), (8_200, True), (800, True)]
    assert [c[:2] for c in chunks_of(db, run_id, "zeros")] == [(12_000, True)]

    with tracker.Api(server=address) as api:
        full = api.scalars(run_id, "loss")
        assert full.steps.tolist() == steps and bits(full.values) == bits(values)
        whole_cuts = block_cuts(db, run_id, "loss")
        for max_points in (4, 5, 40, 43, 100):  # >= max_points // 4 * 1,024 points: digests
            got = api.scalars(run_id, "loss", max_points=max_points)
            check_view(full, got, max_points, path="blocks", cuts=whole_cuts)
            assert got.downsampled
        got = api.scalars(run_id, "loss", max_points=400)  # 102,400 > 50,000 points: read them
        check_view(full, got, 400, path="points")
        for max_points in (n, n + 1, 10**6):
            assert_same_series(api.scalars(run_id, "loss", max_points=max_points), full)

        full_zeros = api.scalars(run_id, "zeros")
        assert bits(full_zeros.values) == bits(zeros)
        check_view(
            full_zeros,
            api.scalars(run_id, "zeros", max_points=40),
            40,
            path="blocks",
            cuts=block_cuts(db, run_id, "zeros"),
        )
        check_view(full_zeros, api.scalars(run_id, "zeros", max_points=100), 100, path="points")

        ranges = [
            (5_000, 45_000),  # cuts the first and the fourth chunk
            (12_000, 13_000),  # only two edge chunks, across their boundary
            (12_344, 12_345),  # the step logged twice across a flush
            (20_500, 26_000),  # all NaN
            (25_000, 29_999),  # the end of the NaN stretch, to the end of a chunk
            (30_000, None),
            (None, 2_000),
            (49_000, 49_999),  # the small chunks at the end
            (7_999, 8_001),
            (30_001, 30_001),
            (1_000, 9_000),  # inside one chunk, cut on both sides
            (12_345, 12_345),  # a step never logged, inside a chunk's step range: nothing
            (60_000, None),  # nothing
        ]
        for start, end in ranges:
            part = api.scalars(run_id, "loss", start_step=start, end_step=end)
            keep = (full.steps >= (start if start is not None else 0)) & (
                full.steps <= (end if end is not None else n)
            )
            assert part.steps.tolist() == full.steps[keep].tolist()
            assert bits(part.values) == bits(full.values[keep])
            assert bits(part.wall_times) == bits(full.wall_times[keep])
            assert part.total_points == int(keep.sum())
            cuts = block_cuts(db, run_id, "loss", start, end)
            for max_points in (4, 40, 100):
                got = api.scalars(run_id, "loss", max_points=max_points, start_step=start, end_step=end)
                check_view(part, got, max_points, path="either", cuts=cuts)
        empty = api.scalars(run_id, "loss", max_points=40, start_step=60_000)
        assert len(empty) == 0 and empty.total_points == 0


# ---------------------------------------------------------------------------------------------
# Scalars: series not in step order (read from points) and slow loggers (extended chunks)


def test_series_out_of_step_order_are_downsampled_from_their_points(address: str, db: Database) -> None:
    rng = np.random.default_rng(8)
    logged: dict[str, tuple[list[int], list[float]]] = {}
    with tracker.init(project="views", name="disorder", server=address, flush_interval=NEVER) as run:
        # Shuffled steps, some logged twice, in three batches: unsorted chunks.
        steps = [int(s) for s in rng.permutation(30_000)]
        steps += [int(s) for s in rng.choice(30_000, size=300)]
        values = rng.normal(size=len(steps)).round(2).tolist()
        values[100] = NAN
        values[200:2500] = [NAN] * 2300
        values[17] = INF
        values[29_000] = -INF
        log_points(run, "shuffled", steps, values, flush_after=(10_000, 20_000))
        logged["shuffled"] = in_step_order(steps, values)
        # Two sorted passes over the same steps: sorted chunks that overlap.
        steps = list(range(15_000)) * 2
        values = (np.sin(np.arange(30_000) / 500.0) + rng.normal(scale=0.1, size=30_000)).tolist()
        values[15_500] = 1e9
        log_points(run, "two_passes", steps, values, flush_after=(15_000,))
        logged["two_passes"] = in_step_order(steps, values)
        # In order, then a small batch, then one late point that makes that small chunk unsorted.
        steps = [*range(20_500), 7]
        values = np.linspace(0.0, 1.0, 20_501).tolist()
        values[-1] = -5.0
        log_points(run, "late_point", steps, values, flush_after=(20_000, 20_500))
        logged["late_point"] = in_step_order(steps, values)
        run_id = run.id

    assert [c[:2] for c in chunks_of(db, run_id, "shuffled")] == [(10_000, False)] * 2 + [(10_300, False)]
    assert [c[:2] for c in chunks_of(db, run_id, "two_passes")] == [(15_000, True)] * 2
    assert [c[:2] for c in chunks_of(db, run_id, "late_point")] == [(20_000, True), (501, False)]

    with tracker.Api(server=address) as api:
        for tag, (steps, values) in logged.items():
            full = api.scalars(run_id, tag)
            assert full.steps.tolist() == steps, tag
            assert bits(full.values) == bits(values), tag
            for max_points in (4, 40, 41, 100):
                check_view(full, api.scalars(run_id, tag, max_points=max_points), max_points, path="points")
            part = api.scalars(run_id, tag, start_step=3_000, end_step=14_000)
            got = api.scalars(run_id, tag, max_points=40, start_step=3_000, end_step=14_000)
            check_view(part, got, 40, path="points")


def test_a_slow_logger_gets_the_contract_from_digests(address: str, db: Database) -> None:
    rng = np.random.default_rng(21)
    n = 12_000
    values = (np.cumsum(rng.normal(size=n)) * 0.1).round(1).tolist()
    values[500] = NAN
    values[6_000:9_500] = [NAN] * 3500
    values[3_000] = INF
    values[11_000] = -1e300
    steps = list(range(n))
    sizes = itertools.accumulate(rng.integers(40, 160, size=n // 40).tolist())
    flushes = [s for s in sizes if s < n]
    with tracker.init(project="views", name="slow", server=address, flush_interval=NEVER) as run:
        log_points(run, "loss", steps, values, flush_after=flushes)
        run_id = run.id

    chunks = chunks_of(db, run_id, "loss")
    assert sum(count for count, _, _ in chunks) == n
    assert all(ordered and count <= 1024 for count, ordered, _ in chunks)
    assert len(chunks) < len(flushes) // 4  # small flushes extend chunks, not a row each
    with tracker.Api(server=address) as api:
        full = api.scalars(run_id, "loss")
        assert full.steps.tolist() == steps and bits(full.values) == bits(values)
        cuts = block_cuts(db, run_id, "loss")
        for max_points in (4, 8, 40):  # 12,000 >= max_points // 4 * 1,024: digests
            check_view(
                full, api.scalars(run_id, "loss", max_points=max_points), max_points, path="blocks", cuts=cuts
            )
        check_view(full, api.scalars(run_id, "loss", max_points=400), 400, path="points")
        part = api.scalars(run_id, "loss", start_step=2_500, end_step=9_000)
        got = api.scalars(run_id, "loss", max_points=8, start_step=2_500, end_step=9_000)
        check_view(part, got, 8, path="either", cuts=block_cuts(db, run_id, "loss", 2_500, 9_000))


def test_max_points_below_four_is_refused(address: str) -> None:
    with tracker.init(project="views", name="bad", server=address) as run:
        run.log({"x": 1.0}, step=0)
    with tracker.Api(server=address) as api:
        for bad in (1, 3, -4):
            with pytest.raises(tracker.InvalidArgumentError, match="max_points"):
                api.scalars(run.id, "x", max_points=bad)
        with pytest.raises(tracker.InvalidArgumentError, match="max_points"):
            api.scalars_many([run.id], ["x"], max_points=3)
        assert api.scalars(run.id, "x", max_points=4).values.tolist() == [1.0]


# ---------------------------------------------------------------------------------------------
# Many series in one call


def test_many_series_in_one_call_equal_the_single_reads(address: str) -> None:
    rng = np.random.default_rng(3)
    plan = {  # run name -> tag -> (points, shuffled)
        "a": {"loss": (12_000, False), "acc": (500, False)},
        "b": {"loss": (300, False), "lr": (50, False), "big": (135_000, False)},  # big: several pages
        "c": {"acc": (2_000, True)},
    }
    ids: dict[str, str] = {}
    logged: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
    for name, tags in plan.items():
        with tracker.init(project="views", name=name, server=address, flush_interval=NEVER) as run:
            for tag, (count, shuffled) in tags.items():
                steps = rng.permutation(count).tolist() if shuffled else list(range(count))
                values = rng.normal(size=count).tolist()
                values[count // 2] = NAN
                log_points(run, tag, steps, values)
                logged[(run.id, tag)] = in_step_order(steps, values)
            ids[name] = run.id
    unknown = "0" * 32
    run_ids = [ids["a"], unknown, ids["b"], ids["c"]]
    tags = ["loss", "acc", "lr", "big", "nope"]
    expected_keys = [(ids[r], t) for r in "abc" for t in tags if t in plan[r]]

    with tracker.Api(server=address) as api:
        windows = ({}, {"start_step": 100, "end_step": 1_500}, {"start_step": 250}, {"start_step": 11_990})
        for window in windows:
            for max_points in (None, 4, 40, 1000):
                many = api.scalars_many(run_ids, tags, max_points=max_points, **window)
                singles = {key: api.scalars(*key, max_points=max_points, **window) for key in expected_keys}
                present = [key for key in expected_keys if singles[key].total_points]
                # Pairs without points in the range are left out.
                assert list(many) == present, (max_points, window)
                for key, series in many.items():
                    assert (series.run_id, series.tag) == key
                    assert_same_series(series, singles[key])
                    if max_points is None:
                        assert len(series) == series.total_points
        everything = api.scalars_many(run_ids, tags)
        assert list(everything) == expected_keys
        assert [everything[k].total_points for k in expected_keys] == [12_000, 500, 300, 50, 135_000, 2_000]
        for key, series in everything.items():
            assert series.steps.tolist() == logged[key][0] and bits(series.values) == bits(logged[key][1])
        assert api.scalars_many([unknown], tags) == {}
        assert api.scalars_many(run_ids, ["nope"]) == {}
        assert api.scalars_many([], tags) == {} and api.scalars_many(run_ids, []) == {}

        fake = [f"{i:032x}" for i in range(2)]
        names = [f"t{i}" for i in range(5_000)]
        assert api.scalars_many([ids["a"], fake[1]], [*names, "loss"][-5_000:], max_points=40).keys() == {
            (ids["a"], "loss")
        }
        with pytest.raises(tracker.InvalidArgumentError):
            api.scalars_many([*fake, ids["a"]], [*names[:3_333], "loss"], max_points=40)  # 10,002 pairs
        with pytest.raises(tracker.InvalidArgumentError):
            api.scalars_many(fake, [*names, "loss"])  # 10,002 pairs


# ---------------------------------------------------------------------------------------------
# Histograms and distributions, computed here from the stored buckets


def occupied(h: tracker.Histogram) -> list[tuple[float, float, float]]:
    """A stored histogram's buckets with a positive count as (left, right, count), read as
    tracker_server/domain/histograms.py documents: bucket 0 is (-inf, limit[0]], bucket i is
    [limit[i-1], limit[i]); edges clamped to [min, max] (each bound only when finite); an edge still
    infinite then becomes the nearest finite edge of these buckets (0 when there is none)."""
    limits = [float(x) for x in h.bucket_limits]
    low = h.min if math.isfinite(h.min) else -INF
    high = h.max if math.isfinite(h.max) else INF
    out = []
    for i, count in enumerate(float(c) for c in h.bucket_counts):
        if count <= 0:
            continue
        left, right = (limits[i - 1] if i else -INF), limits[i]
        if low <= high:
            left, right = min(max(left, low), high), min(max(right, low), high)
        out.append((left, right, count))
    finite = [edge for left, right, _ in out for edge in (left, right) if math.isfinite(edge)]
    first, last = (min(finite), max(finite)) if finite else (0.0, 0.0)
    return [(min(max(a, first), last), min(max(b, first), last), c) for a, b, c in out]


def shared_range(histograms: Sequence[tracker.Histogram]) -> tuple[float, float]:
    buckets = [b for h in histograms for b in occupied(h)]
    lo = min((left for left, _, _ in buckets), default=0.0)
    hi = max((right for _, right, _ in buckets), default=0.0)
    if lo == hi:  # every value equal (or none): widened as documented
        d = max(0.5, abs(lo) * 2.0**-20)
        lo, hi = max(lo - d, -LARGEST), min(lo + d, LARGEST)
    return lo, hi


def rebinned(h: tracker.Histogram, limits: Sequence[float]) -> list[Fraction]:
    """The counts of ``h`` in the buckets [limits[k-1], limits[k]) (the last one closed), k >= 1,
    spreading each stored bucket uniformly over its width (exact arithmetic)."""
    bins = len(limits) - 1
    edges = [Fraction(x) for x in limits]
    out = [Fraction(0)] * (bins + 1)
    for left, right, count in occupied(h):
        if right <= left:  # a point: all of it in the bucket holding it
            out[min(max(bisect.bisect_right(limits, left), 1), bins)] += Fraction(count)
            continue
        a, b = Fraction(left), Fraction(right)
        first = max(bisect.bisect_right(limits, left), 1)
        last = min(bisect.bisect_left(limits, right), bins)
        for k in range(first, last + 1):
            overlap = min(b, edges[k]) - max(a, edges[k - 1])
            if overlap > 0:
                out[k] += Fraction(count) * overlap / (b - a)
    return out


def quantiles(h: tracker.Histogram) -> list[float]:
    """The values below which BASIS_POINTS / 10,000 of the values lie: the first bucket whose
    cumulative count exceeds the target, interpolated linearly inside it; min and max at the ends."""
    buckets = occupied(h)
    if not buckets:
        return [NAN] * len(BASIS_POINTS)
    cumulative = list(itertools.accumulate(count for _, _, count in buckets))
    out = []
    for bp in BASIS_POINTS:
        fraction = bp / 10_000
        if fraction == 1.0:
            out.append(buckets[-1][1])
            continue
        target = cumulative[-1] * fraction
        i = next((k for k, c in enumerate(cumulative) if c > target), len(buckets) - 1)
        left, right, count = buckets[i]
        frac = min(max((target - (cumulative[i - 1] if i else 0.0)) / count, 0.0), 1.0)
        exact = Fraction(left) + Fraction(frac) * (Fraction(right) - Fraction(left))
        out.append(right if frac >= 1.0 else float(exact))
    return out


def check_rebinned(stored: Sequence[tracker.Histogram], got: Sequence[tracker.Histogram], bins: int) -> None:
    assert [h.step for h in got] == [h.step for h in stored]
    lo, hi = shared_range(stored)
    limits = got[0].bucket_limits if got else np.zeros(0)
    width = (Fraction(hi) - Fraction(lo)) / bins
    rounding = Fraction(4 * math.ulp(max(abs(lo), abs(hi))))  # linspace rounds each edge
    for s, h in zip(stored, got, strict=True):
        for field in ("step", "wall_time", "count", "min", "max", "sum", "sum_squares", "nan_count"):
            want, have = getattr(s, field), getattr(h, field)
            assert have == want or (math.isnan(have) and math.isnan(want)), field
        assert h.bucket_limits.size == h.bucket_counts.size == bins + 1
        assert h.bucket_limits.tobytes() == limits.tobytes(), "one set of limits for every step"
        assert h.bucket_limits[0] == lo and h.bucket_limits[-1] == hi
        assert h.bucket_counts[0] == 0.0, "the first bucket is empty"
        for k in range(1, bins + 1):  # equal widths
            step = Fraction(float(limits[k])) - Fraction(float(limits[k - 1]))
            assert abs(step - width) <= width * Fraction(1, 10**9) + rounding
        assert (h.bucket_counts >= 0).all()
        total = float(h.bucket_counts.sum())
        assert math.isclose(total + h.nan_count, h.count, rel_tol=1e-9, abs_tol=1e-9)
        want_counts = rebinned(s, [float(x) for x in limits])
        tolerance = 1e-9 * max(1.0, h.count)
        for k, (have, want) in enumerate(zip(h.bucket_counts, want_counts, strict=True)):
            assert abs(float(have) - float(want)) <= tolerance, (h.step, k, float(have), float(want))


def check_distributions(
    stored: Sequence[tracker.Histogram], got: Sequence[tracker.Distribution], *, consistent: bool = True
) -> None:
    """``consistent``: every histogram's recorded min and max lie in its outer occupied buckets (so
    the first value is the minimum and the last the maximum)."""
    assert [(d.step, d.wall_time, d.count, d.nan_count) for d in got] == [
        (h.step, h.wall_time, h.count, h.nan_count) for h in stored
    ]
    for h, d in zip(stored, got, strict=True):
        want = quantiles(h)
        assert d.values.shape == (len(BASIS_POINTS),)
        if math.isnan(want[0]):
            assert np.isnan(d.values).all()
            continue
        scale = max(abs(want[0]), abs(want[-1]), 1e-300)
        for have, expected in zip(d.values.tolist(), want, strict=True):
            assert abs(have - expected) <= 1e-12 * scale, (h.step, d.values.tolist(), want)
        assert (d.values[1:] >= d.values[:-1]).all()
        if consistent and math.isfinite(h.min) and math.isfinite(h.max):
            assert d.values[0] == h.min and d.values[-1] == h.max


def write_raw_histograms(address: str, run_id: str, tag: str, histograms: Sequence[pb.Histogram]) -> None:
    """Histograms as another writer (TensorBoard's add_histogram_raw) may send them: bucket 0 occupied,
    zero-width buckets, infinite min and max."""
    with grpc.insecure_channel(address) as channel:
        stub = pb_grpc.IngestServiceStub(channel)
        batch = pb.WriteBatch(
            run_id=run_id,
            writer_id="raw",
            seq=1,
            histograms=[pb.HistogramColumn(tag=tag, histograms=histograms)],
        )
        assert not stub.WriteOne(batch, timeout=30).duplicate


RAW_HISTOGRAMS = [
    # Bucket 0, (-inf, 1], holds 3: clamped to [min, 1]; the last bucket clamped to max.
    pb.Histogram(step=0, count=10, min=0.5, max=3.0, bucket_limits=[1.0, 2.0, 4.0], bucket_counts=[3, 2, 5]),
    # Infinite min and max: bucket 0 ends at the nearest finite edge, a point at 0.
    pb.Histogram(step=1, count=4, min=-INF, max=INF, bucket_limits=[0.0, 10.0], bucket_counts=[2, 2]),
    # One bucket, clamped to a point.
    pb.Histogram(step=2, count=4, min=5.0, max=5.0, bucket_limits=[5.0], bucket_counts=[4]),
    # A bucket of zero width (equal limits) holds its count at that point.
    pb.Histogram(
        step=3, count=6, min=-1.0, max=2.0, bucket_limits=[-1.0, 1.0, 1.0, 2.0], bucket_counts=[0, 1, 3, 2]
    ),
    # NaN min and max (not recorded): the bucket edges are used as they are.
    pb.Histogram(
        step=4, count=7, min=NAN, max=NAN, bucket_limits=[0.0, 1.5], bucket_counts=[0, 5], nan_count=2
    ),
]


def test_histograms_rebinned_to_shared_buckets_and_their_distributions(address: str) -> None:
    rng = np.random.default_rng(17)
    with tracker.init(project="views", name="hist", server=address, flush_interval=NEVER) as run:
        run.log_histogram("w", rng.normal(size=1000), step=0)
        run.log_histogram("w", np.append(rng.normal(3.0, 0.5, size=500), [NAN] * 20), step=1)
        run.log_histogram("w", rng.uniform(-1.0, 5.0, size=300), step=2, bins=10)
        run.log_histogram("w", rng.normal(size=40), step=2)  # a step logged twice
        run.log_histogram("w", np.full(7, NAN), step=3)
        run.log_histogram("w", np.full(50, 2.5), step=4)
        run.log_histogram("w", rng.exponential(size=200), step=5, bins=[0.0, 0.1, 1.0, 2.0, 50.0])
        run.log_histogram("spiky", np.array([0.0, 0.0, 1.0, NAN, INF, -INF, 1e25]), step=0)
        run.log_histogram("spiky", rng.normal(size=100), step=1)
        run.log_histogram("const", np.full(10, 3.0), step=0)
        run.log_histogram("const", np.full(4, 3.0), step=1)
        run.log_histogram("bigconst", np.full(5, 1e10), step=0)
        run.log_histogram("maxconst", np.full(3, LARGEST), step=0)
        run.log_histogram("nan_only", np.full(4, NAN), step=0)
        edges = np.array([-1.7e308, 0.0, 1.7e308])
        run.log_histogram("huge", np.array([-1.7e308] * 4 + [1.7e308] * 6), step=0, bins=edges)
        run.log_histogram("huge", np.array([-1.7e308, 1.7e308, 0.0, 1.0]), step=1, bins=edges[::2])
        run_id = run.id
        write_raw_histograms(address, run_id, "raw", RAW_HISTOGRAMS)

    with tracker.Api(server=address) as api:
        for tag in ("w", "spiky", "const", "bigconst", "maxconst", "nan_only", "huge", "raw"):
            stored = api.histograms(run_id, tag)
            assert stored, tag
            for h in stored:
                assert h.bucket_counts.sum() + h.nan_count == h.count
            for as_stored in (0, None):
                again = api.histograms(run_id, tag, bins=as_stored)
                assert [(h.step, h.bucket_limits.tobytes(), h.bucket_counts.tobytes()) for h in again] == [
                    (h.step, h.bucket_limits.tobytes(), h.bucket_counts.tobytes()) for h in stored
                ]
            for bins in (1, 4, 7, 30):
                check_rebinned(stored, api.histograms(run_id, tag, bins=bins), bins)
            check_distributions(stored, api.distributions(run_id, tag))

        stored = api.histograms(run_id, "w")
        assert [h.step for h in stored] == [0, 1, 2, 2, 3, 4, 5]
        real = [h for h in stored if h.bucket_counts.sum() > 0]
        lo, hi = api.histograms(run_id, "w", bins=5)[0].bucket_limits[[0, -1]]
        assert lo == min(h.min for h in real) and hi == max(h.max for h in real)
        # A range re-bins over its own histograms only.
        part = api.histograms(run_id, "w", start_step=1, end_step=2)
        assert [h.step for h in part] == [1, 2, 2]
        check_rebinned(part, api.histograms(run_id, "w", bins=8, start_step=1, end_step=2), 8)
        check_distributions(part, api.distributions(run_id, "w", start_step=1, end_step=2))

        # Degenerate ranges, as documented: one value v -> [v - d, v + d]; no value -> [-0.5, 0.5].
        const = api.histograms(run_id, "const", bins=4)
        assert const[0].bucket_limits.tolist() == [2.5, 2.75, 3.0, 3.25, 3.5]
        assert [h.bucket_counts.tolist() for h in const] == [
            [0.0, 0.0, 0.0, 10.0, 0.0],
            [0.0, 0.0, 0.0, 4.0, 0.0],
        ]
        (nan_only,) = api.histograms(run_id, "nan_only", bins=3)
        assert nan_only.bucket_limits[[0, -1]].tolist() == [-0.5, 0.5]
        assert nan_only.bucket_counts.tolist() == [0.0] * 4 and nan_only.nan_count == 4.0
        (maxconst,) = api.histograms(run_id, "maxconst", bins=2)
        assert maxconst.bucket_limits[-1] == LARGEST and maxconst.bucket_counts.tolist() == [0.0, 0.0, 3.0]
        huge = api.histograms(run_id, "huge", bins=4)
        # Edges near the largest float: their differences overflow unless the arithmetic is scaled.
        np.testing.assert_allclose(huge[0].bucket_counts, [0.0, 2.0, 2.0, 3.0, 3.0], rtol=1e-12)
        np.testing.assert_allclose(huge[1].bucket_counts, [0.0, 1.0, 1.0, 1.0, 1.0], rtol=1e-12)
        assert api.distributions(run_id, "const")[0].values.tolist() == [3.0] * 9
        assert np.isnan(api.distributions(run_id, "nan_only")[0].values).all()
        (dist,) = [d for d in api.distributions(run_id, "w") if d.step == 3]
        assert np.isnan(dist.values).all() and dist.nan_count == 7.0 and dist.count == 7.0

        for bad in (-1, 10_001):
            with pytest.raises(tracker.InvalidArgumentError, match="bins"):
                api.histograms(run_id, "w", bins=bad)
        with pytest.raises(tracker.NotFoundError):
            api.distributions(run_id, "nope")


def test_distributions_of_a_normal_sample_sit_at_its_sigmas(address: str) -> None:
    assert BASIS_POINTS == (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)
    rng = np.random.default_rng(1)
    samples = [rng.normal(size=100_000) for _ in range(3)]
    with tracker.init(project="views", name="normal", server=address, flush_interval=NEVER) as run:
        for step, sample in enumerate(samples):
            run.log_histogram("w", sample, step=step * 10)
        run.log_histogram("w", np.full(9, NAN), step=40)
        run_id = run.id
    with tracker.Api(server=address) as api:
        stored = api.histograms(run_id, "w")
        got = api.distributions(run_id, "w")
        check_distributions(stored, got)
        assert [d.step for d in got] == [0, 10, 20, 40]
        for d, sample in zip(got, samples, strict=False):
            assert d.values[0] == sample.min() and d.values[-1] == sample.max()
            np.testing.assert_allclose(d.values[1:-1], [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5], atol=0.05)
            assert d.count == 100_000 and d.nan_count == 0
        assert np.isnan(got[-1].values).all() and got[-1].nan_count == 9
        later = api.distributions(run_id, "w", start_step=5, end_step=20)
        assert [d.step for d in later] == [10, 20]
        assert [d.values.tolist() for d in later] == [d.values.tolist() for d in got[1:3]]


@pytest.mark.parametrize(
    ("values", "bins"),
    [
        pytest.param([-1.0, 5e-324], "tensorflow", id="subnormal-max"),  # the range ends at 0.0
        pytest.param([-0.16097570257582297, 1.7e308], [-1.0, 0.0, LARGEST], id="huge-max"),
    ],
)
def test_the_shared_range_and_the_distribution_end_at_the_data_extremes(
    address: str, values: list[float], bins: str | list[float]
) -> None:
    with tracker.init(project="views", name="extremes", server=address) as run:
        run.log_histogram("w", np.array(values), step=0, bins=bins)
    with tracker.Api(server=address) as api:
        (stored,) = api.histograms(run.id, "w")
        assert (stored.min, stored.max) == (min(values), max(values))
        (rebinned_h,) = api.histograms(run.id, "w", bins=4)
        (dist,) = api.distributions(run.id, "w")
    assert rebinned_h.bucket_limits[[0, -1]].tolist() == [min(values), max(values)]
    assert dist.values[[0, -1]].tolist() == [min(values), max(values)]

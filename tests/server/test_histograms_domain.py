"""TensorBoard's histogram and distribution views (domain.histograms), checked against plain-Python
computations (explicit loops over buckets) and against the raw samples the client summarised."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from tracker_client.histogram import summarize, tensorflow_bucket_edges
from tracker_server.domain.histograms import BASIS_POINTS, distribution, distributions, rebin
from tracker_server.domain.model import Histogram

INF = math.inf
NAN = math.nan


def _from_values(values: object, *, step: int = 1, **kwargs: object) -> Histogram:
    """The client's summary of ``values`` as a domain Histogram."""
    client = summarize(values, step=step, wall_time=100.0 + step, **kwargs)  # type: ignore[arg-type]
    fields = {f.name: getattr(client, f.name) for f in dataclasses.fields(Histogram)}
    return Histogram(**fields)


def _raw(
    limits: list[float],
    counts: list[float],
    *,
    lo: float,
    hi: float,
    nan_count: float = 0.0,
    step: int = 1,
) -> Histogram:
    """A histogram as add_histogram_raw would send it (sum and sum_squares are not used here)."""
    return Histogram(
        step=step,
        wall_time=10.0 * step,
        count=float(sum(counts)) + nan_count,
        min=lo,
        max=hi,
        sum=1.5,
        sum_squares=2.5,
        nan_count=nan_count,
        bucket_limits=np.array(limits, dtype=np.float64),
        bucket_counts=np.array(counts, dtype=np.float64),
    )


# -- independent computations, in plain Python -------------------------------------------------------------


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _ref_buckets(h: Histogram) -> list[tuple[float, float, float]]:
    """(left, right, count) of the occupied buckets: bucket 0 is (-inf, limit 0], edges clamped to a
    finite min/max, then what is still infinite to the outermost finite edge."""
    limits = [float(x) for x in h.bucket_limits]
    counts = [float(c) for c in h.bucket_counts]
    low = h.min if math.isfinite(h.min) else -INF
    high = h.max if math.isfinite(h.max) else INF
    if low > high:
        low, high = -INF, INF
    buckets = []
    for i, c in enumerate(counts):
        if c > 0:
            left = limits[i - 1] if i > 0 else -INF
            buckets.append((_clamp(left, low, high), _clamp(limits[i], low, high), c))
    finite = [x for left, right, _ in buckets for x in (left, right) if math.isfinite(x)]
    first, last = (min(finite), max(finite)) if finite else (0.0, 0.0)
    return [(_clamp(left, first, last), _clamp(right, first, last), c) for left, right, c in buckets]


def _ref_range(histograms: list[Histogram]) -> tuple[float, float]:
    extents = [(b[0][0], b[-1][1]) for b in map(_ref_buckets, histograms) if b]
    lo = min((e[0] for e in extents), default=0.0)
    hi = max((e[1] for e in extents), default=0.0)
    if lo == hi:
        d = max(0.5, abs(lo) / 2**20)
        return lo - d, hi + d
    return lo, hi


def _ref_rebin(h: Histogram, edges: list[float]) -> list[float]:
    """The counts of ``h`` in the target buckets [edges[k], edges[k+1]) (the last one closed)."""
    n = len(edges) - 1
    out = [0.0] * n
    for left, right, c in _ref_buckets(h):
        if right > left:
            for k in range(n):
                # Halved, so that no difference overflows; exact for normal numbers.
                overlap = min(right, edges[k + 1]) / 2 - max(left, edges[k]) / 2
                if overlap > 0:
                    out[k] += c * (overlap / (right / 2 - left / 2))
        else:
            for k in range(n):
                if edges[k] <= left < edges[k + 1] or (k == n - 1 and left == edges[n]):
                    out[k] += c
                    break
            else:
                raise AssertionError(f"point {left} outside {edges[0]}..{edges[-1]}")
    return out


def _ref_distribution(h: Histogram) -> list[float]:
    buckets = _ref_buckets(h)
    if not buckets:
        return [NAN] * len(BASIS_POINTS)
    total = 0.0
    for _, _, c in buckets:
        total += c
    values = []
    for bp in BASIS_POINTS:
        target = total * (bp / 10_000)
        cumulative = 0.0
        for left, right, c in buckets:
            if bp < 10_000 and cumulative + c > target:
                frac = (target - cumulative) / c
                values.append(left * (1 - frac) + right * frac)  # never overflows
                break
            cumulative += c
        else:
            values.append(buckets[-1][1])
    return values


def _check_rebin(histograms: list[Histogram], bins: int) -> list[Histogram]:
    """rebin agrees with the plain-Python computation and keeps everything but the buckets."""
    out = rebin(histograms, bins=bins)
    assert len(out) == len(histograms)
    lo, hi = _ref_range(histograms)
    for h, r in zip(histograms, out, strict=True):
        assert (r.step, r.wall_time, r.count, r.sum, r.sum_squares, r.nan_count) == (
            h.step,
            h.wall_time,
            h.count,
            h.sum,
            h.sum_squares,
            h.nan_count,
        )
        assert r.min == h.min or (math.isnan(r.min) and math.isnan(h.min))
        assert r.max == h.max or (math.isnan(r.max) and math.isnan(h.max))
        assert r.bucket_limits.dtype == np.float64 and r.bucket_counts.dtype == np.float64
        assert r.bucket_limits.shape == r.bucket_counts.shape == (bins + 1,)
        assert (r.bucket_limits[0], r.bucket_limits[-1]) == (lo, hi)
        halves = np.linspace(lo / 2, hi / 2, bins + 1)  # hi - lo may exceed the largest float
        np.testing.assert_allclose(r.bucket_limits / 2, halves, rtol=1e-12, atol=1e-12 * abs(halves).max())
        np.testing.assert_array_equal(r.bucket_limits, out[0].bucket_limits)  # one shared range
        assert r.bucket_counts[0] == 0.0
        assert (r.bucket_counts >= 0).all()
        total = float(h.bucket_counts.sum())
        assert math.isclose(float(r.bucket_counts.sum()), total, rel_tol=1e-12, abs_tol=1e-12)
        expected = _ref_rebin(h, [float(x) for x in r.bucket_limits])
        np.testing.assert_allclose(r.bucket_counts[1:], expected, rtol=1e-9, atol=1e-9 * max(total, 1.0))
    return out


def _check_distribution(h: Histogram) -> np.ndarray:
    got = distribution(h)
    assert got.shape == (len(BASIS_POINTS),) and got.dtype == np.float64
    expected = _ref_distribution(h)
    scale = max((abs(x) for x in expected if math.isfinite(x)), default=1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * scale)
    return got


# -- rebin ------------------------------------------------------------------------------------------------


def test_rebin_of_nothing_is_nothing() -> None:
    assert rebin([], bins=30) == []


@pytest.mark.parametrize("bins", [0, -1])
def test_rebin_needs_at_least_one_bucket(bins: int) -> None:
    with pytest.raises(ValueError, match="bins must be at least 1"):
        rebin([_from_values([1.0, 2.0])], bins=bins)


def test_uniform_buckets_split_by_overlap() -> None:
    h = _raw([0.0, 1.0, 3.0, 4.0], [0, 2, 4, 1], lo=0.0, hi=4.0)
    [r] = _check_rebin([h], 4)
    np.testing.assert_array_equal(r.bucket_limits, [0.0, 1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(r.bucket_counts, [0, 2, 2, 2, 1])


def test_edges_are_clamped_to_min_and_max() -> None:
    # Values lie in [0.5, 2.5] although the buckets span [0, 4]: the range and the spreading use them.
    h = _raw([0.0, 2.0, 4.0], [0, 3, 1], lo=0.5, hi=2.5)
    [r] = _check_rebin([h], 2)
    np.testing.assert_array_equal(r.bucket_limits, [0.5, 1.5, 2.5])
    np.testing.assert_allclose(r.bucket_counts, [0, 2, 2])


def test_a_histogram_of_another_tool_with_a_count_in_its_first_bucket() -> None:
    # Bucket 0 is (-inf, -1]; clamped to min it is [-3, -1].
    h = _raw([-1.0, 1.0], [4, 2], lo=-3.0, hi=1.0)
    [r] = _check_rebin([h], 2)
    np.testing.assert_allclose(r.bucket_counts, [0, 4, 2])
    np.testing.assert_allclose(distribution(h)[[0, 4, 8]], [-3.0, -1.5, 1.0])


def test_zero_width_buckets_put_their_count_in_the_bucket_holding_the_point() -> None:
    h = _raw([0.0, 1.0, 1.0, 2.0, 2.0], [0, 2, 3, 5, 7], lo=0.0, hi=2.0)
    [r] = _check_rebin([h], 2)
    # The point 1 opens the second target bucket; the point 2 is the closed right end of the last.
    np.testing.assert_allclose(r.bucket_counts, [0, 2, 15])
    [r] = _check_rebin([h], 3)
    np.testing.assert_allclose(r.bucket_counts, [0, 4 / 3, 3 + 2 / 3 + 5 / 3, 10 / 3 + 7])


def test_a_bucket_clamped_to_a_point_is_a_point() -> None:
    h = _raw([0.0, 10.0, 20.0], [0, 6, 4], lo=10.0, hi=14.0)  # the first occupied bucket is [10, 10]
    [r] = _check_rebin([h], 4)
    np.testing.assert_allclose(r.bucket_counts, [0, 7, 1, 1, 1])


def test_equal_values_widen_to_half_a_unit_either_side() -> None:
    h = _from_values([3.0] * 10)
    [r] = _check_rebin([h], 4)
    np.testing.assert_array_equal(r.bucket_limits, [2.5, 2.75, 3.0, 3.25, 3.5])
    np.testing.assert_array_equal(r.bucket_counts, [0, 0, 0, 10, 0])
    np.testing.assert_array_equal(distribution(h), [3.0] * 9)


def test_equal_huge_values_still_get_a_range_of_distinct_edges() -> None:
    h = _raw([1e300, 1e300], [0, 5], lo=1e300, hi=1e300)
    [r] = _check_rebin([h], 30)
    assert (np.diff(r.bucket_limits) > 0).all()
    top = _raw([-2e307, 1.7e308, 1.7e308], [0, 0, 2], lo=1.7e308, hi=1.7e308)
    [r] = _check_rebin([top], 3)
    assert np.isfinite(r.bucket_limits).all() and r.bucket_counts.sum() == 2


def test_a_range_wider_than_the_largest_float_does_not_overflow() -> None:
    top = float(np.finfo(np.float64).max)
    h = _raw([-top, top], [0, 8], lo=-INF, hi=INF)
    with np.errstate(all="raise"):
        [r] = _check_rebin([h], 4)
        got = _check_distribution(h)
    np.testing.assert_allclose(r.bucket_counts, [0, 2, 2, 2, 2])
    assert got[0] == -top and got[-1] == top and got[4] == 0.0


def test_histograms_with_different_ranges_share_one_range() -> None:
    rng = np.random.default_rng(1)
    small = _from_values(rng.uniform(0, 1, 500), step=1)
    large = _from_values(rng.normal(50, 5, 700), step=2)
    raw = _raw([-20.0, -10.0, -5.0], [0, 3, 1.5], lo=-12.0, hi=-6.0, nan_count=2, step=3)
    out = _check_rebin([small, large, raw], 30)
    assert out[0].bucket_limits[0] == -12.0
    assert out[0].bucket_limits[-1] == max(large.max, small.max)
    assert [r.step for r in out] == [1, 2, 3]


def test_one_bucket_holds_everything() -> None:
    hs = [_from_values([1.0, 5.0, 9.0]), _raw([0.0, 2.0, 2.0], [0, 1.5, 2], lo=0.5, hi=2.0)]
    out = _check_rebin(hs, 1)
    np.testing.assert_array_equal(out[0].bucket_limits, [0.5, 9.0])
    np.testing.assert_array_equal([r.bucket_counts for r in out], [[0, 3], [0, 3.5]])


def test_nan_and_infinite_values() -> None:
    h = _from_values([NAN, 1.0, 2.0, INF, -INF, NAN])
    assert (h.min, h.max, h.nan_count) == (-INF, INF, 2.0)
    [r] = _check_rebin([h], 10)
    edges = tensorflow_bucket_edges()
    # +-Inf sit in the outermost buckets: the range ends at their finite limits.
    assert (r.bucket_limits[0], r.bucket_limits[-1]) == (edges[0], edges[-1])
    assert r.bucket_counts.sum() + r.nan_count == r.count == 6
    got = _check_distribution(h)
    assert (got[0], got[-1]) == (edges[0], edges[-1])
    assert np.isfinite(got).all()


def test_an_infinite_min_falls_back_to_the_finite_edge() -> None:
    h = _raw([0.0, 1.0, 2.0], [0, 1, 3], lo=-INF, hi=1.5)
    [r] = _check_rebin([h], 3)
    np.testing.assert_allclose(r.bucket_limits, [0.0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(r.bucket_counts, [0, 0.5, 0.5, 3])
    h = _raw([-INF, 0.0, 1.0, INF], [0, 1, 3, 2], lo=-INF, hi=NAN)  # infinite limits too
    [r] = _check_rebin([h], 2)
    np.testing.assert_allclose(r.bucket_counts, [0, 1 + 1.5, 1.5 + 2])


def test_histograms_without_values_keep_their_place_with_zero_counts() -> None:
    nan_only = _from_values([NAN, NAN, NAN])
    assert nan_only.bucket_limits.size == 0
    empty = _raw([], [], lo=NAN, hi=NAN)
    zeros = _raw([0.0, 1.0], [0, 0], lo=NAN, hi=NAN)
    out = _check_rebin([nan_only, empty, zeros], 5)
    for r in out:
        np.testing.assert_array_equal(r.bucket_limits, np.linspace(-0.5, 0.5, 6))
        np.testing.assert_array_equal(r.bucket_counts, np.zeros(6))
    assert out[0].nan_count == out[0].count == 3
    data = _from_values([4.0, 6.0])
    out = _check_rebin([nan_only, data], 2)
    np.testing.assert_array_equal(out[0].bucket_counts, [0, 0, 0])
    np.testing.assert_array_equal(out[0].bucket_limits, out[1].bucket_limits)


def test_rebin_leaves_its_input_alone() -> None:
    h = _from_values(np.arange(100.0))
    limits, counts = h.bucket_limits.copy(), h.bucket_counts.copy()
    h.bucket_limits.flags.writeable = False
    h.bucket_counts.flags.writeable = False
    out = rebin([h, h], bins=7)
    np.testing.assert_array_equal(h.bucket_limits, limits)
    np.testing.assert_array_equal(h.bucket_counts, counts)
    out[0].bucket_counts[1] = -1.0  # outputs are independent arrays
    assert out[1].bucket_counts[1] != -1.0


def _random_histogram(rng: np.random.Generator, step: int) -> Histogram:
    """Increasing limits with repeats (zero-width buckets), float counts with gaps, a min and a max
    inside, at, or beyond the occupied buckets, infinite or NaN."""
    n = int(rng.integers(1, 14))
    scale = float(rng.choice([1e-3, 1.0, 1e6]))
    limits = np.sort(np.round(rng.normal(0, scale, n) / scale, int(rng.integers(0, 3))) * scale)
    counts = rng.choice([0.0, 0.0, 0.25, 1.0, 3.0, 7.5], n)
    if rng.random() < 0.8:
        counts[0] = 0.0
    occupied = np.flatnonzero(counts)
    lo = hi = NAN
    if occupied.size:
        first, last = occupied[0], occupied[-1]
        left = limits[first - 1] if first > 0 else limits[0] - scale
        right = limits[last]
        lo = float(rng.choice([left, left + 0.3 * (right - left), left - scale, -INF, NAN]))
        hi = float(rng.choice([right, right - 0.3 * (right - left), right + scale, INF, NAN]))
    return _raw(
        limits.tolist(), counts.tolist(), lo=lo, hi=hi, nan_count=float(rng.integers(0, 3)), step=step
    )


@pytest.mark.parametrize("seed", range(60))
def test_random_histograms_agree_with_the_plain_computation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    histograms = [_random_histogram(rng, step) for step in range(int(rng.integers(1, 5)))]
    _check_rebin(histograms, int(rng.choice([1, 2, 3, 7, 30])))
    for h in histograms:
        _check_distribution(h)


# -- against raw samples summarised by the client -------------------------------------------------------


@pytest.fixture(scope="module")
def normal_sample() -> np.ndarray:
    return np.random.default_rng(7).normal(size=200_000)


def test_rebinned_counts_match_a_histogram_of_the_raw_sample(normal_sample: np.ndarray) -> None:
    shifted = np.random.default_rng(8).normal(3.0, 2.0, 100_000)
    hs = [_from_values(normal_sample, step=1), _from_values(shifted, step=2)]
    out = rebin(hs, bins=30)
    assert out[0].bucket_limits[0] == min(normal_sample.min(), shifted.min())
    assert out[0].bucket_limits[-1] == max(normal_sample.max(), shifted.max())
    for sample, h, r in zip((normal_sample, shifted), hs, out, strict=True):
        expected, _ = np.histogram(sample, bins=r.bucket_limits)
        assert math.isclose(r.bucket_counts.sum(), sample.size, rel_tol=1e-12)
        # The log-spaced source buckets are ~10% wide; assuming values uniform inside them is close.
        np.testing.assert_allclose(r.bucket_counts[1:], expected, rtol=0, atol=1e-3 * sample.size)
        assert r.min == h.min and r.max == h.max


def test_rebin_of_numpy_style_buckets(normal_sample: np.ndarray) -> None:
    h = _from_values(normal_sample, bins=64)
    [r] = _check_rebin([h], 16)
    expected, _ = np.histogram(normal_sample, bins=r.bucket_limits)
    np.testing.assert_allclose(r.bucket_counts[1:], expected, rtol=0, atol=2e-3 * normal_sample.size)


def test_distribution_of_standard_normal_data(normal_sample: np.ndarray) -> None:
    h = _from_values(normal_sample)
    got = _check_distribution(h)
    assert got[0] == normal_sample.min() and got[-1] == normal_sample.max()
    np.testing.assert_allclose(got[1:-1], [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5], atol=0.05)
    quantiles = np.quantile(normal_sample, np.array(BASIS_POINTS) / 10_000)
    np.testing.assert_allclose(got, quantiles, atol=0.01)


# -- distributions ----------------------------------------------------------------------------------------


def test_distribution_interpolates_inside_the_crossing_bucket() -> None:
    h = _raw([0.0, 10.0, 20.0], [0, 1, 3], lo=0.0, hi=20.0)
    got = _check_distribution(h)
    # 1/4 of the values lie in [0, 10): basis point 1587 is 6.348 there; 5000 is a third into [10, 20).
    np.testing.assert_allclose(got[[0, 2, 4, 8]], [0.0, 6.348, 10 + 10 / 3, 20.0])


def test_empty_buckets_never_hold_a_crossing() -> None:
    # Half the values in [0, 1), half in [9, 10): the median is where the second half starts.
    h = _raw([0.0, 1.0, 5.0, 9.0, 10.0], [0, 5, 0, 0, 5], lo=0.0, hi=10.0)
    got = _check_distribution(h)
    assert got[4] == 9.0
    assert (got[:4] < 1.0).all() and (got[5:] > 9.0).all()


def test_distribution_of_a_point_bucket_is_the_point() -> None:
    h = _raw([0.0, 2.0, 2.0, 4.0], [0, 1, 8, 1], lo=0.0, hi=4.0)
    got = _check_distribution(h)
    np.testing.assert_array_equal(got[2:7], [2.0] * 5)
    assert (got[0], got[-1]) == (0.0, 4.0)


def test_the_last_basis_point_is_the_maximum_whatever_the_rounding() -> None:
    h = _raw([0.0, 2.0, 3.0], [0, 1e16, 1], lo=0.0, hi=3.0)  # 1e16 + 1 rounds to 1e16
    got = _check_distribution(h)
    assert (got[0], got[-1]) == (0.0, 3.0)


def test_distribution_without_values_is_nan() -> None:
    for h in (_from_values([NAN]), _raw([], [], lo=NAN, hi=NAN), _raw([1.0, 2.0], [0, 0], lo=1.0, hi=2.0)):
        assert np.isnan(distribution(h)).all() and distribution(h).shape == (9,)


def test_distributions_stack_one_row_per_histogram() -> None:
    hs = [_from_values([1.0, 2.0, 3.0]), _from_values([NAN]), _raw([0.0, 1.0], [0, 4], lo=0.0, hi=1.0)]
    got = distributions(hs)
    assert got.shape == (3, 9) and got.dtype == np.float64
    for row, h in zip(got, hs, strict=True):
        np.testing.assert_array_equal(row, distribution(h))
    np.testing.assert_allclose(got[2], np.array(BASIS_POINTS) / 10_000)
    assert distributions([]).shape == (0, 9)


def test_basis_points_are_tensorboards() -> None:
    assert BASIS_POINTS == (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)

"""TensorBoard's two views of a histogram series, computed from the stored summaries.

Stored histograms keep the writer's buckets (TensorBoard's 1,548 log-spaced ones, or anything
add_histogram_raw sent), which differ from step to step and cannot be drawn side by side. The
histogram view re-bins every step to the same equal-width buckets over one shared range
(``rebin``); the distribution view draws nine percentiles per step (``distribution``, with the
semantics of TensorBoard's plugins/distribution/compressor.py).

Both read a histogram the same way. Bucket i >= 1 covers [limit[i-1], limit[i]); bucket 0 is
(-inf, limit[0]]. Only buckets with a positive count matter. Their edges are clamped to the
recorded [min, max], ignoring a min or max that is infinite or NaN; an edge still infinite then
falls back to the nearest finite edge of the occupied buckets (so +-Inf values, which sit in the
outermost buckets, end at those buckets' finite limits), or to 0 when there is none. Values are
assumed spread uniformly inside a bucket; a bucket of zero width (equal limits, or clamped to a
point) holds all its count at that point. A histogram's extent is [left edge of its first occupied
bucket, right edge of its last].

Degenerate cases: the shared range of a rebin is a single point v when every value is equal, and
becomes [v - d, v + d] with d = max(0.5, |v| * 2**-20) (TensorBoard's +-0.5, widened where 0.5
would be lost to rounding; clipped to the largest float); when no histogram has a value (all empty
or all NaN) the range is that of v = 0, [-0.5, 0.5]. A histogram without values comes back with
the shared limits and zero counts; its distribution is nine NaNs.

Computations run on coordinates scaled by a power of two (exact) so that differences of edges near
the largest float do not overflow.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker_server.domain.model import Histogram

FloatArray = npt.NDArray[np.float64]

BASIS_POINTS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)
"""TensorBoard's distribution percentiles, in 1/10,000: the minimum, +-1.5, +-1, +-0.5 sigma of a
normal distribution, the median and the maximum."""

_FRACTIONS = np.array(BASIS_POINTS, dtype=np.float64) / 10_000  # 0 and 1 exactly at the ends
_LARGEST = float(np.finfo(np.float64).max)


@dataclass(frozen=True, slots=True, eq=False)
class _Buckets:
    """The occupied buckets of one histogram: clamped, finite, in increasing order, counts > 0."""

    lefts: FloatArray
    rights: FloatArray
    counts: FloatArray

    @property
    def lo(self) -> float:
        return float(self.lefts[0])

    @property
    def hi(self) -> float:
        return float(self.rights[-1])


def _occupied(h: Histogram) -> _Buckets | None:
    """The occupied buckets of ``h`` as the module docstring reads them; None without any."""
    limits = np.asarray(h.bucket_limits, dtype=np.float64)
    counts = np.asarray(h.bucket_counts, dtype=np.float64)
    if limits.shape != counts.shape or limits.ndim != 1:
        raise ValueError(
            "bucket_limits and bucket_counts must be 1-D of equal lengths, "
            f"got shapes {limits.shape} and {counts.shape}"
        )
    keep = counts > 0
    if not keep.any():
        return None
    lefts = np.concatenate(([-np.inf], limits[:-1]))[keep]
    rights = limits[keep]
    low = h.min if math.isfinite(h.min) else -math.inf
    high = h.max if math.isfinite(h.max) else math.inf
    if low <= high:
        lefts = np.clip(lefts, low, high)
        rights = np.clip(rights, low, high)
    # Clamping is monotone, so the edges stay in order and any infinity is at either end.
    ends = np.concatenate((lefts, rights))
    finite = ends[np.isfinite(ends)]
    first, last = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    return _Buckets(np.clip(lefts, first, last), np.clip(rights, first, last), counts[keep])


def _exponent(*values: float) -> int:
    """0 (no scaling) unless the values are so large that their differences could overflow; then an
    e with every |value| < 2**e, so coordinates scaled by 2**-e lie in (-1, 1). Scaling by a power
    of two is exact except for values it pushes into the subnormal range, which only happens next to
    values above 2**1022 and is why callers put the range's own ends back unscaled."""
    largest = max(abs(v) for v in values)
    return 0 if largest < 2.0**1022 else math.frexp(largest)[1]


def _widen(v: float) -> tuple[float, float]:
    d = max(0.5, abs(v) * 2.0**-20)
    return max(v - d, -_LARGEST), min(v + d, _LARGEST)


def _mass_below(x: FloatArray, lefts: FloatArray, rights: FloatArray, counts: FloatArray) -> FloatArray:
    """The count of buckets of positive width below each x, spread uniformly inside each bucket."""
    before = np.concatenate(([0.0], np.cumsum(counts)))
    j = np.maximum(np.searchsorted(lefts, x, side="right") - 1, 0)  # the last bucket starting at or before x
    frac = np.clip((x - lefts[j]) / (rights[j] - lefts[j]), 0.0, 1.0)
    result: FloatArray = before[j] + counts[j] * frac
    return result


def _redistribute(b: _Buckets, edges: FloatArray, e: int) -> FloatArray:
    """The counts of ``b`` in the buckets [edges[k], edges[k+1]) (the last one closed); ``edges`` is
    scaled by 2**-e."""
    bins = edges.size - 1
    lefts = np.ldexp(b.lefts, -e)
    rights = np.ldexp(b.rights, -e)
    point = rights <= lefts
    out = np.zeros(bins, dtype=np.float64)
    if point.any():
        index = np.clip(np.searchsorted(edges, lefts[point], side="right") - 1, 0, bins - 1)
        out += np.bincount(index, weights=b.counts[point], minlength=bins)
    spread = ~point
    if spread.any():
        out += np.diff(_mass_below(edges, lefts[spread], rights[spread], b.counts[spread]))
    return out


def rebin(histograms: Sequence[Histogram], *, bins: int) -> list[Histogram]:
    """Every histogram re-binned to ``bins`` equal-width buckets over one range shared by all of them.

    The range runs from the smallest to the largest extent of the histograms. Each output keeps every
    field but the buckets: ``bucket_limits`` are the ``bins + 1`` edges [lo, lo + w, ..., hi] and
    ``bucket_counts`` are [0, c_1, ..., c_bins] (the first bucket empty, as stored). A source bucket
    gives each target bucket its count times the fraction of its width they share; a point bucket
    gives all of it to the target bucket holding the point. Totals are preserved.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    occupied = [_occupied(h) for h in histograms]
    present = [b for b in occupied if b is not None]
    lo = min((b.lo for b in present), default=0.0)
    hi = max((b.hi for b in present), default=0.0)
    if lo == hi:
        lo, hi = _widen(lo)
    e = _exponent(lo, hi)
    edges = np.linspace(math.ldexp(lo, -e), math.ldexp(hi, -e), bins + 1)
    limits = np.ldexp(edges, e)
    limits[0], limits[-1] = lo, hi
    result = []
    for h, b in zip(histograms, occupied, strict=True):
        counts = np.zeros(bins + 1, dtype=np.float64)
        if b is not None:
            counts[1:] = _redistribute(b, edges, e)
        result.append(dataclasses.replace(h, bucket_limits=limits.copy(), bucket_counts=counts))
    return result


def distribution(h: Histogram) -> FloatArray:
    """The values below which BASIS_POINTS / 10,000 of the non-NaN values of ``h`` lie.

    Found by linear interpolation inside the bucket whose cumulative count first exceeds the target
    (buckets without count never hold it): basis point 0 is the left end of the extent (the minimum),
    10,000 the right end (the maximum). Nine NaNs when ``h`` has no value.
    """
    b = _occupied(h)
    if b is None:
        return np.full(len(BASIS_POINTS), np.nan)
    e = _exponent(b.lo, b.hi)
    lefts = np.ldexp(b.lefts, -e)
    rights = np.ldexp(b.rights, -e)
    cumulative = np.cumsum(b.counts)
    before = np.concatenate(([0.0], cumulative))
    targets = cumulative[-1] * _FRACTIONS
    i = np.minimum(np.searchsorted(cumulative, targets, side="right"), cumulative.size - 1)
    frac = np.clip((targets - before[i]) / b.counts[i], 0.0, 1.0)
    frac[_FRACTIONS == 1.0] = 1.0  # the maximum, whatever the rounding of the cumulative counts
    values = np.where(frac >= 1.0, rights[i], lefts[i] + frac * (rights[i] - lefts[i]))
    result: FloatArray = np.ldexp(values, e)
    result[0], result[-1] = b.lo, b.hi  # the extremes themselves, not a rescaled copy
    return result


def distributions(histograms: Sequence[Histogram]) -> FloatArray:
    """``distribution`` of each histogram: an array of shape (len(histograms), len(BASIS_POINTS))."""
    result = np.full((len(histograms), len(BASIS_POINTS)), np.nan)
    for row, h in enumerate(histograms):
        result[row] = distribution(h)
    return result

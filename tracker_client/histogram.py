"""Histogram summaries computed on the client with numpy, in TensorBoard's default layout.

Only the summary travels: count, min, max, sum, sum of squares and the occupied buckets.
The default bucket edges are torch SummaryWriter's ``bins="tensorflow"``: 0 and +-1e-12 * 1.1**k
up to 1e20 (1,549 edges), trimmed to the occupied range plus one empty bucket on the left, so a
histogram written here equals one written by torch.utils.tensorboard for the same values.

Where we differ, on purpose, so nothing is silently dropped: values beyond the outer edges (and
+-Inf) are counted in the outermost buckets, and NaNs are counted in ``nan_count`` (torch's
numpy path drops both from the buckets while still counting them in ``num``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from tracker_client.records import Histogram

Bins = str | int | npt.ArrayLike


@cache
def tensorflow_bucket_edges() -> npt.NDArray[np.float64]:
    """The 1,549 edges of TensorBoard's default histogram buckets, computed as torch does."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    edges = np.array([-x for x in reversed(positive)] + [0.0] + positive, dtype=np.float64)
    edges.flags.writeable = False
    return edges


def as_float_array(values: Any) -> npt.NDArray[np.float64]:
    """Flatten numpy arrays, scalars, sequences, objects with __array__ and torch tensors to float64."""
    if hasattr(values, "detach"):  # torch.Tensor, without importing torch
        tensor = values.detach().cpu()
        try:
            values = tensor.numpy()
        except TypeError:  # bfloat16 and other dtypes numpy does not have
            values = tensor.float().numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1)


def summarize(
    values: Any,
    *,
    step: int,
    wall_time: float,
    bins: Bins = "tensorflow",
    max_bins: int | None = None,
) -> Histogram:
    """Summarise ``values`` into a Histogram. ``bins`` is "tensorflow" or any numpy bins argument."""
    array = as_float_array(values)
    if array.size == 0:
        raise ValueError("cannot log a histogram of an empty array")
    nan = np.isnan(array)
    nan_count = int(nan.sum())
    data = array[~nan] if nan_count else array
    if data.size == 0:
        empty = np.zeros(0, dtype=np.float64)
        return Histogram(
            step, wall_time, float(array.size), np.nan, np.nan, np.nan, np.nan, empty, empty, float(nan_count)
        )
    if isinstance(bins, str) and bins == "tensorflow":
        edges = tensorflow_bucket_edges()
    else:
        finite = data[np.isfinite(data)]
        edges = np.histogram_bin_edges(finite if finite.size else np.zeros(1), bins=bins)
    counts, limits = np.histogram(np.clip(data, edges[0], edges[-1]), bins=edges)
    counts, limits = _subsample(counts, limits, max_bins)
    counts, limits = _trim(counts, limits)
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(data.sum())
        squares = float(np.dot(data, data))
    return Histogram(
        step=step,
        wall_time=wall_time,
        count=float(array.size),
        min=float(data.min()),
        max=float(data.max()),
        sum=total,
        sum_squares=squares,
        bucket_limits=limits.astype(np.float64),
        bucket_counts=counts.astype(np.float64),
        nan_count=float(nan_count),
    )


def _subsample(
    counts: npt.NDArray[Any], limits: npt.NDArray[Any], max_bins: int | None
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Merge groups of ``len(counts) // max_bins`` neighbouring buckets, exactly as torch's
    ``max_bins`` does (so up to ``2 * max_bins - 1`` remain when ``max_bins`` does not divide the
    bucket count): the same arguments give the same histogram as torch.utils.tensorboard."""
    if max_bins is None or counts.size <= max_bins:
        return counts, limits
    if max_bins < 1:
        raise ValueError(f"max_bins must be at least 1, got {max_bins}")
    group = counts.size // max_bins
    padded = np.pad(counts, (0, -counts.size % group))
    merged = padded.reshape(-1, group).sum(axis=1)
    merged_limits = np.append(limits[:-1:group], limits[-1])
    return merged, merged_limits


def _trim(counts: npt.NDArray[Any], limits: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Keep the occupied buckets plus one empty bucket on the left; limits become right edges."""
    occupied = np.flatnonzero(counts)
    start, end = int(occupied[0]), int(occupied[-1]) + 1
    if start > 0:
        kept = counts[start - 1 : end]
    else:
        kept = np.concatenate([np.zeros(1, dtype=counts.dtype), counts[:end]])
    return kept, limits[start : end + 1]


def histogram_problem(h: Any) -> str | None:
    """Why a histogram summary is inconsistent, or None: the rules both the client (on the caller's
    line) and the server (authoritatively) apply. ``h`` has Histogram's fields."""
    n = h.bucket_limits.size
    if h.bucket_counts.size != n:
        return f"bucket_limits and bucket_counts must have equal lengths, got {n} and {h.bucket_counts.size}"
    edges = h.bucket_limits
    if np.isnan(edges).any() or (n > 1 and (edges[1:] < edges[:-1]).any()):
        return "bucket_limits must be increasing and not NaN"
    counts = h.bucket_counts
    if not np.isfinite(counts).all() or (counts < 0).any():
        return "bucket_counts must be finite and >= 0"
    for field in ("count", "nan_count"):
        value = getattr(h, field)
        if not np.isfinite(value) or value < 0:
            return f"{field} must be finite and >= 0, got {value}"
    total = float(counts.sum()) + h.nan_count
    if abs(total - h.count) > 1e-9 * max(1.0, h.count):
        return f"buckets do not add up: sum(bucket_counts) + nan_count = {total:g} but count = {h.count:g}"
    return None

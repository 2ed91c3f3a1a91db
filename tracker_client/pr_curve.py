"""Precision-recall curves computed on the client with numpy, exactly as TensorBoard computes them.

A curve is 6 rows of ``num_thresholds`` values: TP, FP, TN, FN, precision, recall, where threshold
``i`` is ``i / (num_thresholds - 1)``. Each prediction falls in bucket ``floor(p * (n - 1))`` and
counts (with its weight) as a positive or negative at every threshold up to its bucket, so TP and
FP are reverse cumulative sums of per-bucket histograms, TN and FN their complements, and
precision and recall divide by ``max(1e-7, ...)``. This is torch.utils.tensorboard's
``compute_curve`` (TensorBoard's pr_curves summary), including its cap of 127 thresholds and its
arithmetic in the predictions' own float precision, so the same inputs give the same curve; but
invalid input (labels other than 0/1, predictions outside [0, 1] or NaN) raises ``ValueError``
instead of drawing a wrong curve. Only numpy is needed: torch tensors are converted without
importing torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MAX_THRESHOLDS = 127  # torch's writer caps it: TensorBoard's protobuf handling broke above this
_MINIMUM_COUNT = 1e-7
ROWS = ("true_positives", "false_positives", "true_negatives", "false_negatives", "precision", "recall")


def pr_curve(
    labels: Any,
    predictions: Any,
    *,
    num_thresholds: int = MAX_THRESHOLDS,
    weights: Any = None,
) -> npt.NDArray[np.float64]:
    """The [6, n] curve of ``predictions`` (in [0, 1]) against ``labels`` (bool or 0/1), with
    ``n = min(num_thresholds, 127)``; ``weights`` (a scalar or one per prediction) weight each."""
    n = _thresholds(num_thresholds)
    positive = _labels(labels)
    predicted = _predictions(predictions)
    if positive.size == 0:
        raise ValueError("cannot compute a PR curve of no predictions")
    if positive.size != predicted.size:
        raise ValueError(f"got {positive.size} labels for {predicted.size} predictions")
    weight = 1.0 if weights is None else _weights(weights, positive.size)

    # In the predictions' own precision, as TensorBoard does: float32 input is bucketed in float32.
    buckets = np.floor(predicted * (n - 1)).astype(np.int32)
    tp = _reverse_cumsum(_histogram(buckets, positive * weight, n))
    fp = _reverse_cumsum(_histogram(buckets, (1.0 - positive) * weight, n))
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall]).astype(np.float64)


def pr_curve_raw(
    true_positives: Any,
    false_positives: Any,
    true_negatives: Any,
    false_negatives: Any,
    precision: Any,
    recall: Any,
    *,
    num_thresholds: int | None = None,
) -> npt.NDArray[np.float64]:
    """Stack a curve computed elsewhere into [6, n] float64, checking that the six rows are 1-D and
    equally long, and as long as ``num_thresholds`` when that is given."""
    rows = []
    for name, values in zip(
        ROWS,
        (true_positives, false_positives, true_negatives, false_negatives, precision, recall),
        strict=True,
    ):
        row = _to_numpy(values, name)
        if row.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {row.shape}")
        if not np.issubdtype(row.dtype, np.number) and row.dtype != np.bool_:
            raise ValueError(f"{name} must be numbers, got dtype {row.dtype}")
        rows.append(row.astype(np.float64))
    lengths = {name: row.size for name, row in zip(ROWS, rows, strict=True)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"the six rows of a PR curve must be equally long, got {lengths}")
    n = rows[0].size
    if n < 2:
        raise ValueError(f"a PR curve needs at least 2 thresholds, got {n}")
    if num_thresholds is not None and num_thresholds != n:
        raise ValueError(f"num_thresholds is {num_thresholds} but each row holds {n} values")
    return np.stack(rows)


def _thresholds(num_thresholds: int) -> int:
    if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int | np.integer):
        raise TypeError(f"num_thresholds must be an int, got {type(num_thresholds).__name__}")
    if num_thresholds < 2:
        raise ValueError(f"num_thresholds must be at least 2, got {num_thresholds}")
    return min(int(num_thresholds), MAX_THRESHOLDS)


def _labels(labels: Any) -> npt.NDArray[np.float64]:
    array = _as_array(labels, "labels")
    if array.dtype != np.bool_:
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"labels must be booleans or 0/1, got dtype {array.dtype}")
        if not np.all((array == 0) | (array == 1)):
            raise ValueError("labels must be booleans or 0/1")
    return array.astype(np.float64)


def _predictions(predictions: Any) -> npt.NDArray[np.floating[Any]]:
    array = _as_array(predictions, "predictions")
    if not np.issubdtype(array.dtype, np.floating):
        if array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"predictions must be real numbers, got dtype {array.dtype}")
        array = array.astype(np.float64)
    if not np.all((array >= 0) & (array <= 1)):
        raise ValueError("predictions must be in [0, 1] (and not NaN)")
    return array


def _weights(weights: Any, size: int) -> npt.NDArray[Any]:
    array = _as_array(weights, "weights")
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"weights must be numbers, got dtype {array.dtype}")
    if array.size == 1:
        array = array.reshape(())
    elif array.size != size:
        raise ValueError(f"got {array.size} weights for {size} predictions")
    if not np.all(np.isfinite(array)):
        raise ValueError("weights must be finite")
    return array


def _as_array(values: Any, name: str) -> npt.NDArray[Any]:
    """``_to_numpy`` flattened."""
    return _to_numpy(values, name).reshape(-1)


def _to_numpy(values: Any, name: str) -> npt.NDArray[Any]:
    """numpy arrays, lists, scalars, objects with __array__ and torch tensors (without importing torch),
    in their own dtype (bfloat16 and other dtypes numpy lacks become float32)."""
    if hasattr(values, "detach"):
        tensor = values.detach().cpu()
        try:
            values = tensor.numpy()
        except TypeError:
            values = tensor.float().numpy()
    array = np.asarray(values)
    if array.dtype == np.object_:
        raise ValueError(f"{name} must be numeric, got objects")
    return array


def _histogram(buckets: npt.NDArray[np.int32], weights: npt.NDArray[Any], n: int) -> npt.NDArray[np.float64]:
    """Weighted count per bucket 0..n-1. np.histogram over [0, n - 1] with n bins puts integer i in
    bin i, and sums in the same order as TensorBoard's call, so weighted curves match to the bit."""
    counts, _ = np.histogram(
        buckets, bins=n, range=(0, n - 1), weights=np.broadcast_to(weights, buckets.shape)
    )
    return counts.astype(np.float64)


def _reverse_cumsum(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sum of values[i:] for every i, added from the end (the order TensorBoard adds in)."""
    return np.cumsum(values[::-1])[::-1]

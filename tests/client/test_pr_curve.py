"""PR curves: TensorBoard's math reproduced exactly (against tensorboardX's and torch's own
``compute_curve``, and an independent plain-Python reference), edge cases, and clear errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tracker_client.pr_curve import MAX_THRESHOLDS, pr_curve, pr_curve_raw


def _reference(
    labels: list[int], predictions: list[float], n: int, weights: list[float] | None = None
) -> list[list[float]]:
    """Plain Python, written from the definition: at threshold i, a prediction counts as positive when
    its bucket floor(p * (n - 1)) is at least i."""
    weights = weights or [1.0] * len(labels)
    buckets = [math.floor(p * (n - 1)) for p in predictions]
    tp = [sum(w for b, y, w in zip(buckets, labels, weights, strict=True) if y and b >= i) for i in range(n)]
    fp = [
        sum(w for b, y, w in zip(buckets, labels, weights, strict=True) if not y and b >= i) for i in range(n)
    ]
    tn = [fp[0] - f for f in fp]
    fn = [tp[0] - t for t in tp]
    precision = [t / max(1e-7, t + f) for t, f in zip(tp, fp, strict=True)]
    recall = [t / max(1e-7, t + f) for t, f in zip(tp, fn, strict=True)]
    return [tp, fp, tn, fn, precision, recall]


def _random(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size), rng.random(size)


@pytest.mark.parametrize("n", [2, 3, 10, 127])
def test_matches_the_plain_python_reference(n: int) -> None:
    labels, predictions = _random(400, n)
    predictions[:4] = [0.0, 1.0, 0.5, 1.0]
    curve = pr_curve(labels, predictions, num_thresholds=n)
    assert curve.shape == (6, n) and curve.dtype == np.float64
    np.testing.assert_array_equal(curve, _reference(labels.tolist(), predictions.tolist(), n))


def test_weights_match_the_reference() -> None:
    labels, predictions = _random(300, 1)
    weights = np.random.default_rng(2).random(300)
    curve = pr_curve(labels, predictions, num_thresholds=20, weights=weights)
    expected = _reference(labels.tolist(), predictions.tolist(), 20, weights.tolist())
    np.testing.assert_allclose(curve, expected, rtol=1e-12, atol=1e-12)  # only the order of additions differs
    integral = pr_curve(labels, predictions, num_thresholds=20, weights=np.full(300, 3))
    np.testing.assert_array_equal(integral[:4], 3 * pr_curve(labels, predictions, num_thresholds=20)[:4])
    scalar = pr_curve(labels, predictions, num_thresholds=20, weights=2.0)
    np.testing.assert_array_equal(scalar[:4], 2 * pr_curve(labels, predictions, num_thresholds=20)[:4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("n", [2, 5, 127, 500])
@pytest.mark.parametrize("weighted", [False, True])
def test_identical_to_tensorboardx_compute_curve(dtype: Any, n: int, weighted: bool) -> None:
    from tensorboardX.summary import compute_curve

    labels, predictions = _random(70_000, n)  # more than numpy's 65,536-value histogram block
    predictions = predictions.astype(dtype)
    predictions[:3] = [0.0, 1.0, 0.5]
    weights = np.random.default_rng(n).random(labels.size).astype(np.float32) if weighted else None
    expected = compute_curve(labels, predictions, num_thresholds=min(n, 127), weights=weights)
    np.testing.assert_array_equal(pr_curve(labels, predictions, num_thresholds=n, weights=weights), expected)


def test_identical_to_torch_compute_curve_with_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    summary = pytest.importorskip("torch.utils.tensorboard.summary")
    rng = np.random.default_rng(4)
    labels = torch.tensor(rng.integers(0, 2, 5000))
    predictions = torch.tensor(rng.random(5000), dtype=torch.float32, requires_grad=True)
    weights = rng.random(5000)
    for n in (2, 33, 127):
        expected = summary.compute_curve(
            labels.numpy(), predictions.detach().numpy(), num_thresholds=n, weights=weights
        )
        np.testing.assert_array_equal(
            pr_curve(labels, predictions, num_thresholds=n, weights=weights), expected
        )
    half = predictions.detach().to(torch.bfloat16)  # numpy has no bfloat16: compared as float32
    expected = summary.compute_curve(labels.numpy(), half.float().numpy(), num_thresholds=127)
    np.testing.assert_array_equal(pr_curve(labels, half), expected)


def test_all_positives_and_all_negatives() -> None:
    predictions = [0.0, 0.2, 0.7, 1.0]
    positives = pr_curve([1, 1, 1, 1], predictions, num_thresholds=5)
    np.testing.assert_array_equal(positives[1], 0)  # no false positives
    np.testing.assert_array_equal(positives[4], [1, 1, 1, 1, 1])  # precision 1 wherever tp > 0
    np.testing.assert_array_equal(positives[0], [4, 2, 2, 1, 1])  # buckets 0, 0, 2, 4
    np.testing.assert_array_equal(positives[5], [1, 0.5, 0.5, 0.25, 0.25])
    negatives = pr_curve([False] * 4, predictions, num_thresholds=5)
    np.testing.assert_array_equal(negatives[0], 0)
    np.testing.assert_array_equal(negatives[4:], 0)  # 0 / max(1e-7, ...) = 0
    np.testing.assert_array_equal(negatives[1], [4, 2, 2, 1, 1])
    np.testing.assert_array_equal(negatives[2], [0, 2, 2, 3, 3])


def test_predictions_of_exactly_zero_and_one() -> None:
    curve = pr_curve([1, 0], [1.0, 0.0], num_thresholds=2)
    np.testing.assert_array_equal(curve, [[1, 1], [1, 0], [0, 1], [0, 0], [0.5, 1], [1, 1]])
    ints = pr_curve(np.array([1, 0, 1]), np.array([1, 0, 0]), num_thresholds=3)  # integer predictions
    np.testing.assert_array_equal(ints, pr_curve([1, 0, 1], [1.0, 0.0, 0.0], num_thresholds=3))


def test_num_thresholds_above_127_is_capped() -> None:
    labels, predictions = _random(100, 0)
    assert pr_curve(labels, predictions).shape == (6, MAX_THRESHOLDS)
    np.testing.assert_array_equal(
        pr_curve(labels, predictions, num_thresholds=1000), pr_curve(labels, predictions, num_thresholds=127)
    )


def test_accepts_lists_array_likes_and_any_shape() -> None:
    class ArrayLike:
        def __init__(self, values: list[float]) -> None:
            self.values = values

        def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
            return np.array(self.values, dtype=dtype)

    flat = pr_curve([1, 0, 1, 0], [0.9, 0.1, 0.4, 0.6], num_thresholds=4)
    np.testing.assert_array_equal(
        pr_curve(ArrayLike([1, 0, 1, 0]), ArrayLike([0.9, 0.1, 0.4, 0.6]), num_thresholds=4), flat
    )
    np.testing.assert_array_equal(
        pr_curve(
            np.array([[True, False], [True, False]]), np.array([[0.9, 0.1], [0.4, 0.6]]), num_thresholds=4
        ),
        flat,
    )


@pytest.mark.parametrize(
    ("labels", "predictions", "kwargs", "message"),
    [
        ([1, 2], [0.1, 0.2], {}, "labels must be booleans or 0/1"),
        ([0.5, 1], [0.1, 0.2], {}, "labels must be booleans or 0/1"),
        (["a", "b"], [0.1, 0.2], {}, "labels must be booleans or 0/1"),
        ([1, 0], [0.1, 1.5], {}, r"predictions must be in \[0, 1\]"),
        ([1, 0], [-0.1, 0.5], {}, r"predictions must be in \[0, 1\]"),
        ([1, 0], [np.nan, 0.5], {}, "not NaN"),
        ([1, 0], ["x", "y"], {}, "predictions must be real numbers"),
        ([1, 0, 1], [0.1, 0.2], {}, "got 3 labels for 2 predictions"),
        ([], [], {}, "no predictions"),
        ([1, 0], [0.1, 0.2], {"num_thresholds": 1}, "at least 2"),
        ([1, 0], [0.1, 0.2], {"weights": [1.0, 2.0, 3.0]}, "got 3 weights for 2 predictions"),
        ([1, 0], [0.1, 0.2], {"weights": [1.0, np.inf]}, "weights must be finite"),
    ],
)
def test_invalid_input_is_refused_naming_the_problem(
    labels: Any, predictions: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pr_curve(labels, predictions, **kwargs)


def test_num_thresholds_must_be_an_int() -> None:
    with pytest.raises(TypeError, match="num_thresholds must be an int"):
        pr_curve([1], [0.5], num_thresholds=2.5)  # type: ignore[arg-type]


# -- pr_curve_raw ----------------------------------------------------------------------------------


def test_raw_stacks_six_rows() -> None:
    curve = pr_curve([1, 0, 1, 1], [0.9, 0.1, 0.4, 0.6], num_thresholds=5)
    stacked = pr_curve_raw(*curve, num_thresholds=5)
    assert stacked.dtype == np.float64
    np.testing.assert_array_equal(stacked, curve)
    np.testing.assert_array_equal(pr_curve_raw(*[list(row) for row in curve]), curve)


def test_raw_refuses_mismatched_lengths_naming_them() -> None:
    rows = [np.zeros(5)] * 5 + [np.zeros(4)]
    with pytest.raises(ValueError, match=r"equally long.*'recall': 4"):
        pr_curve_raw(*rows)
    with pytest.raises(ValueError, match="num_thresholds is 127 but each row holds 5 values"):
        pr_curve_raw(*[np.zeros(5)] * 6, num_thresholds=127)
    with pytest.raises(ValueError, match="precision must be one-dimensional"):
        pr_curve_raw(*[np.zeros(4)] * 4, np.zeros((2, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least 2 thresholds"):
        pr_curve_raw(*[[1.0]] * 6)

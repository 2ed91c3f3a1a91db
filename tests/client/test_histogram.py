"""Histogram summaries: TensorBoard's default bucket edges and layout, and what we do on purpose
beyond it (NaN counted apart, out-of-range values kept in the outer buckets)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tracker_client.histogram import as_float_array, summarize, tensorflow_bucket_edges
from tracker_client.records import Histogram

EDGES = tensorflow_bucket_edges()


def _summary(values: Any, **kwargs: Any) -> Histogram:
    return summarize(values, step=3, wall_time=12.5, **kwargs)


def _bucket_index(edges: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Bucket of every value by numpy's rule ([a, b), the last bucket closed), without np.histogram."""
    index = np.searchsorted(edges, data, side="right") - 1
    return np.minimum(index, edges.size - 2)


# -- the default edges ---------------------------------------------------------------------------------


def test_tensorflow_edges_are_1549_symmetric_increasing_values_around_zero() -> None:
    assert EDGES.shape == (1549,)
    assert EDGES.dtype == np.float64
    assert np.all(np.diff(EDGES) > 0)
    assert EDGES[774] == 0.0
    np.testing.assert_array_equal(EDGES[:774], -EDGES[775:][::-1])
    positive = EDGES[775:]
    assert positive[0] == 1e-12
    assert positive.min() == 1e-12
    assert positive[-1] < 1e20 <= positive[-1] * 1.1  # the last power of 1.1 below 1e20
    assert EDGES[-1] < 1.1e20
    # Each positive edge is 1.1 times the previous one.
    np.testing.assert_allclose(positive[1:] / positive[:-1], 1.1, rtol=1e-12)


def test_tensorflow_edges_cannot_be_modified_by_a_caller() -> None:
    edges = tensorflow_bucket_edges()
    assert edges is tensorflow_bucket_edges()
    with pytest.raises(ValueError, match="read-only"):
        edges[0] = 1.0


# -- equality with TensorBoard (tensorboardX's implementation of torch's algorithm) -----------------------


@pytest.fixture(scope="module")
def tensorboardx() -> Any:
    return pytest.importorskip("tensorboardX")


@pytest.fixture(scope="module")
def tensorboard_default_bins(tensorboardx: Any, tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    writer = tensorboardx.SummaryWriter(logdir=str(tmp_path_factory.mktemp("tb")), write_to_disk=False)
    try:
        return list(writer.default_bins)
    finally:
        writer.close()


def _tensorboard_histogram(
    tensorboardx: Any, values: np.ndarray, bins: Any, max_bins: int | None = None
) -> Any:
    summary = tensorboardx.summary.histogram("h", values, bins, max_bins=max_bins)
    return summary.value[0].histo


def _assert_same_as_tensorboard(ours: Histogram, theirs: Any) -> None:
    assert ours.min == theirs.min
    assert ours.max == theirs.max
    assert ours.count == theirs.num
    assert ours.sum == theirs.sum
    assert ours.sum_squares == theirs.sum_squares
    assert ours.bucket_limits.tolist() == list(theirs.bucket_limit)
    assert ours.bucket_counts.tolist() == list(theirs.bucket)
    assert ours.nan_count == 0.0


def test_default_edges_equal_tensorboards(tensorboard_default_bins: list[float]) -> None:
    assert EDGES.tolist() == [float(x) for x in tensorboard_default_bins]


@pytest.mark.parametrize("scale", [1e-9, 1e-3, 1.0, 1e4, 1e15])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_summary_equals_tensorboards_for_normal_data(
    tensorboardx: Any, tensorboard_default_bins: list[float], scale: float, dtype: type
) -> None:
    rng = np.random.default_rng(int(math.log10(scale)) + 100)
    values = (rng.normal(size=(50, 40)) * scale).astype(dtype)
    ours = _summary(values)
    theirs = _tensorboard_histogram(tensorboardx, values, tensorboard_default_bins)
    _assert_same_as_tensorboard(ours, theirs)
    assert ours.step == 3 and ours.wall_time == 12.5


@pytest.mark.parametrize("max_bins", [1, 7, 36, 100, 1000])
def test_max_bins_equals_tensorboards(
    tensorboardx: Any, tensorboard_default_bins: list[float], max_bins: int
) -> None:
    values = np.random.default_rng(max_bins).normal(scale=10.0, size=5000)
    ours = _summary(values, max_bins=max_bins)
    theirs = _tensorboard_histogram(tensorboardx, values, tensorboard_default_bins, max_bins=max_bins)
    _assert_same_as_tensorboard(ours, theirs)


@pytest.mark.parametrize("bins", [1, 10, 64, "auto"])
def test_numpy_bins_equal_tensorboards(tensorboardx: Any, bins: Any) -> None:
    values = np.random.default_rng(5).normal(size=1000)
    _assert_same_as_tensorboard(
        _summary(values, bins=bins), _tensorboard_histogram(tensorboardx, values, bins)
    )


# -- the layout, checked independently -------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_layout_is_occupied_buckets_plus_one_empty_on_the_left(scale: float) -> None:
    data = np.random.default_rng(11).normal(scale=scale, size=3000)
    h = _summary(data)
    index = _bucket_index(EDGES, data)
    first, last = int(index.min()), int(index.max())
    full = np.bincount(index, minlength=EDGES.size - 1)
    assert first > 0  # the data does not reach the outermost bucket
    # Limits are right edges: bucket k of the full layout has limit EDGES[k + 1]; the empty bucket
    # on the left is bucket first - 1, whose right edge is the left edge of the data's first bucket.
    np.testing.assert_array_equal(h.bucket_limits, EDGES[first : last + 2])
    np.testing.assert_array_equal(h.bucket_counts, np.concatenate([[0.0], full[first : last + 1]]))
    assert h.bucket_counts[0] == 0.0 and h.bucket_counts[1] > 0 and h.bucket_counts[-1] > 0
    assert h.bucket_limits[0] <= data.min() < h.bucket_limits[1]
    assert h.bucket_limits[-2] <= data.max() < h.bucket_limits[-1]
    assert h.bucket_counts.sum() == data.size == h.count
    assert h.min == data.min() and h.max == data.max()
    assert h.sum == float(data.sum()) and h.sum_squares == float(np.dot(data, data))
    assert h.nan_count == 0.0
    assert h.bucket_limits.dtype == np.float64 and h.bucket_counts.dtype == np.float64


def test_a_single_value_gives_two_buckets() -> None:
    h = _summary([1.0])
    k = int(_bucket_index(EDGES, np.array([1.0]))[0])
    assert h.bucket_limits.tolist() == [EDGES[k], EDGES[k + 1]]
    assert h.bucket_counts.tolist() == [0.0, 1.0]
    assert (h.count, h.min, h.max, h.sum, h.sum_squares) == (1.0, 1.0, 1.0, 1.0, 1.0)


def test_nan_is_counted_apart_from_the_buckets() -> None:
    h = _summary(np.array([1.0, np.nan, 2.0, np.nan, np.nan]))
    assert h.count == 5.0
    assert h.nan_count == 3.0
    assert h.bucket_counts.sum() == 2.0
    assert (h.min, h.max, h.sum, h.sum_squares) == (1.0, 2.0, 3.0, 5.0)
    np.testing.assert_array_equal(h.bucket_limits, _summary([1.0, 2.0]).bucket_limits)


def test_all_nan_gives_no_buckets() -> None:
    h = _summary(np.full((2, 3), np.nan))
    assert h.count == 6.0 and h.nan_count == 6.0
    assert h.bucket_limits.size == 0 and h.bucket_counts.size == 0
    assert all(math.isnan(x) for x in (h.min, h.max, h.sum, h.sum_squares))


@pytest.mark.parametrize("empty", [[], np.zeros(0), np.zeros((0, 4), dtype=np.float32)])
def test_an_empty_input_raises(empty: Any) -> None:
    with pytest.raises(ValueError, match="empty"):
        _summary(empty)


def test_infinities_and_values_beyond_the_edges_land_in_the_outermost_buckets() -> None:
    data = np.array([-np.inf, -1e25, -1e20, 1.0, 1e20, 1e300, np.inf])
    h = _summary(data)
    # The lowest values occupy bucket 0, so the empty bucket is prepended with the outer edge as limit.
    assert h.bucket_limits[0] == EDGES[0] and h.bucket_limits[1] == EDGES[1]
    assert h.bucket_counts[0] == 0.0
    assert h.bucket_counts[1] == 3.0  # -inf, -1e25, -1e20
    assert h.bucket_limits[-1] == EDGES[-1]
    assert h.bucket_counts[-1] == 3.0  # 1e20, 1e300, inf
    assert h.bucket_counts.sum() == 7.0 == h.count
    assert h.bucket_limits.size == EDGES.size  # everything from the first to the last bucket, plus one
    assert h.min == -np.inf and h.max == np.inf
    assert math.isnan(h.sum)  # -inf + inf
    assert h.sum_squares == np.inf
    assert h.nan_count == 0.0


def test_positive_infinity_alone() -> None:
    h = _summary([np.inf, np.inf])
    assert h.bucket_limits.tolist() == [EDGES[-2], EDGES[-1]]
    assert h.bucket_counts.tolist() == [0.0, 2.0]
    assert h.min == h.max == h.sum == np.inf


@pytest.mark.parametrize(("bins", "max_bins"), [(1000, 100), (1000, 250), (1197, 7), (600, 600), (50, 1000)])
def test_max_bins_merges_buckets_and_keeps_the_total(bins: int, max_bins: int) -> None:
    data = np.random.default_rng(1).uniform(-1.0, 1.0, size=20_000)
    h = _summary(data, bins=bins, max_bins=max_bins)
    unmerged = _summary(data, bins=bins)
    assert h.bucket_counts.size <= max_bins + 1
    assert h.bucket_counts.sum() == data.size == h.count
    assert h.bucket_limits[0] == unmerged.bucket_limits[0] == data.min()
    assert h.bucket_limits[-1] == unmerged.bucket_limits[-1] == data.max()
    # Merged limits are a subset of the unmerged ones, and each merged bucket is the sum of the
    # unmerged buckets between its limits.
    assert set(h.bucket_limits.tolist()) <= set(unmerged.bucket_limits.tolist())
    positions = np.searchsorted(unmerged.bucket_limits, h.bucket_limits)
    for i in range(1, positions.size):
        assert h.bucket_counts[i] == unmerged.bucket_counts[positions[i - 1] + 1 : positions[i] + 1].sum()


@pytest.mark.parametrize(("bins", "max_bins", "expected_groups"), [(199, 100, 199), (1000, 300, 334)])
def test_max_bins_merges_like_torch_when_it_does_not_divide_the_count(
    bins: int, max_bins: int, expected_groups: int
) -> None:
    """torch merges groups of len // max_bins buckets; we match it rather than the name's promise."""
    data = np.random.default_rng(2).uniform(size=20_000)
    h = _summary(data, bins=bins, max_bins=max_bins)
    assert h.bucket_counts.sum() == data.size
    # + 1: the empty bucket on the left; trimming never removes an occupied group here.
    assert h.bucket_counts.size == expected_groups + 1


def test_max_bins_on_the_default_edges_keeps_the_total() -> None:
    data = np.random.default_rng(3).normal(size=4000)
    h = _summary(data, max_bins=36)  # 1548 buckets merged 43 at a time
    assert h.bucket_counts.size <= 37
    assert h.bucket_counts.sum() == 4000.0
    assert h.bucket_limits[0] in EDGES and h.bucket_limits[-1] in EDGES


def test_max_bins_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bins must be at least 1"):
        _summary([1.0, 2.0], max_bins=0)


def test_integer_bins_span_the_data() -> None:
    data = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 1.0])
    h = _summary(data, bins=4)
    # Edges 0, .25, .5, .75, 1; bucket 0 is occupied, so an empty bucket is prepended.
    assert h.bucket_limits.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert h.bucket_counts.tolist() == [0.0, 1.0, 1.0, 1.0, 3.0]


def test_explicit_edges_are_used_and_outliers_are_kept() -> None:
    h = _summary([-5.0, 0.1, 0.2, 0.7, 7.0], bins=[0.0, 0.5, 1.0])
    assert h.bucket_limits.tolist() == [0.0, 0.5, 1.0]
    assert h.bucket_counts.tolist() == [0.0, 3.0, 2.0]  # -5 clipped into the first, 7 into the last
    assert (h.min, h.max, h.count) == (-5.0, 7.0, 5.0)


def test_integer_bins_ignore_infinities_for_the_edges() -> None:
    h = _summary([0.0, 1.0, np.inf], bins=2)
    assert h.bucket_limits.tolist() == [0.0, 0.5, 1.0]
    assert h.bucket_counts.tolist() == [0.0, 1.0, 2.0]
    assert h.max == np.inf


def test_float32_input_is_summarised_as_float64_of_the_same_values() -> None:
    values32 = np.random.default_rng(4).normal(size=(16, 16)).astype(np.float32)
    h32 = _summary(values32)
    h64 = _summary(values32.astype(np.float64))
    for name in ("count", "min", "max", "sum", "sum_squares", "nan_count"):
        assert getattr(h32, name) == getattr(h64, name), name
    np.testing.assert_array_equal(h32.bucket_limits, h64.bucket_limits)
    np.testing.assert_array_equal(h32.bucket_counts, h64.bucket_counts)
    assert h32.min == float(values32.min())


# -- tensors without importing torch ----------------------------------------------------------------------


class FakeTensor:
    """What summarize() needs of a torch.Tensor: detach(), cpu(), numpy() and, for bfloat16, float()."""

    def __init__(self, data: np.ndarray, *, numpy_supported: bool = True) -> None:
        self.data = data
        self.numpy_supported = numpy_supported
        self.calls: list[str] = []

    def detach(self) -> FakeTensor:
        self.calls.append("detach")
        return self

    def cpu(self) -> FakeTensor:
        self.calls.append("cpu")
        return self

    def numpy(self) -> np.ndarray:
        self.calls.append("numpy")
        if not self.numpy_supported:
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self.data

    def float(self) -> FakeTensor:
        self.calls.append("float")
        return FakeTensor(self.data.astype(np.float32))


def _assert_equal_histograms(a: Histogram, b: Histogram) -> None:
    for name in ("count", "min", "max", "sum", "sum_squares", "nan_count"):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.bucket_limits, b.bucket_limits)
    np.testing.assert_array_equal(a.bucket_counts, b.bucket_counts)


def test_a_tensor_is_detached_moved_to_cpu_and_converted() -> None:
    data = np.random.default_rng(6).normal(size=(8, 4)).astype(np.float32)
    tensor = FakeTensor(data)
    _assert_equal_histograms(_summary(tensor), _summary(data))
    assert tensor.calls == ["detach", "cpu", "numpy"]


def test_a_bfloat16_tensor_falls_back_to_float() -> None:
    data = np.array([[0.5, -1.25], [3.0, 1e-3]])
    tensor = FakeTensor(data, numpy_supported=False)
    _assert_equal_histograms(_summary(tensor), _summary(data.astype(np.float32)))
    assert tensor.calls == ["detach", "cpu", "numpy", "float"]


def test_objects_with_array_interface_and_sequences_are_flattened() -> None:
    class ArrayLike:
        def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
            return np.array([[1, 2], [3, 4]], dtype=np.int32)

    np.testing.assert_array_equal(as_float_array(ArrayLike()), [1.0, 2.0, 3.0, 4.0])
    assert as_float_array(ArrayLike()).dtype == np.float64
    np.testing.assert_array_equal(as_float_array([[1, 2], [3, 5]]), [1.0, 2.0, 3.0, 5.0])
    np.testing.assert_array_equal(as_float_array(7), [7.0])
    h = _summary(ArrayLike())
    assert (h.count, h.sum, h.min, h.max) == (4.0, 10.0, 1.0, 4.0)

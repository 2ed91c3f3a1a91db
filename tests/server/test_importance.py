"""Parameter importance: Spearman against a plain-Python reference, the forest on synthetic sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracker_server.domain.importance import ImportanceResult, forest_importance, spearman


def _reference_ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # positions i..j hold ranks i+1..j+1
        i = j + 1
    return ranks


def _reference_spearman(x: list[float], y: list[float]) -> float | None:
    pairs = [(a, b) for a, b in zip(x, y, strict=True) if not math.isnan(a)]
    if len(pairs) < 3:
        return None
    ra = _reference_ranks([a for a, _ in pairs])
    rb = _reference_ranks([b for _, b in pairs])
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((a - ma) * (b - mb) for a, b in zip(ra, rb, strict=True))
    va = sum((a - ma) ** 2 for a in ra)
    vb = sum((b - mb) ** 2 for b in rb)
    if va == 0 or vb == 0:
        return None
    return cov / math.sqrt(va * vb)


@pytest.mark.parametrize("seed", range(40))
def test_spearman_matches_a_plain_python_reference_with_ties_and_nan(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    x = rng.integers(0, int(rng.integers(1, 8)), n).astype(float)  # few distinct values: many ties
    x[rng.random(n) < 0.25] = np.nan
    y = np.round(x * rng.normal() + rng.normal(size=n), 1)
    y = np.where(np.isnan(y), rng.normal(size=n), y)
    y[rng.random(n) < 0.2] = 0.5  # ties on the metric side too
    expected = _reference_spearman(x.tolist(), y.tolist())
    got = spearman(x, y)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert got == pytest.approx(expected, abs=1e-12)


def test_spearman_known_values() -> None:
    x = np.array([0.001, 0.01, 0.1, 1.0, 10.0])
    assert spearman(x, x**3) == 1.0
    assert spearman(x, -np.log(x)) == -1.0
    assert spearman(np.full(5, 2.0), x) is None
    assert spearman(x, np.full(5, 2.0)) is None
    assert spearman(np.array([1.0, np.nan, 2.0, np.nan]), np.arange(4.0)) is None  # two pairs left
    assert spearman(np.array([1.0, np.nan, 2.0, 3.0]), np.array([3.0, 100.0, 2.0, 1.0])) == -1.0
    assert spearman(np.array([1.0, 1.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(
        2 / math.sqrt(5)
    )


def _sweep(n: int, seed: int, *, missing: float = 0.0) -> tuple[list[np.ndarray], list[bool], np.ndarray]:
    """Column 0: learning rate (strong, optimum at 1e-2); 1: optimizer (weak, categorical); 2-4: noise."""
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-4, 0, n)
    optimizer = rng.integers(0, 3, n)
    y = -((np.log10(lr) + 2) ** 2) + 0.3 * optimizer + rng.normal(0, 0.3, n)
    shown_lr = np.where(rng.random(n) < missing, np.nan, lr)
    noise = [rng.normal(size=n), rng.integers(0, 2, n).astype(float), rng.integers(0, 4, n).astype(float)]
    return [shown_lr, optimizer.astype(float), *noise], [False, True, False, False, True], y


def _check_normalised(result: ImportanceResult, d: int) -> None:
    assert result.importances.shape == (d,)
    assert (result.importances >= 0).all()
    assert result.importances.sum() == pytest.approx(1.0)


def test_the_strong_hyperparameter_dominates_and_noise_stays_near_zero() -> None:
    columns, categorical, y = _sweep(400, seed=1)
    result = forest_importance(columns, categorical, y)
    _check_normalised(result, 5)
    imp = result.importances
    assert int(np.argmax(imp)) == 0 and imp[0] > 0.5
    assert (imp[2:] < 0.1).all()
    assert imp[1] > imp[2:].max()  # the weak categorical effect still beats noise
    assert result.oob_r2 > 0.5


def test_a_categorical_only_signal_is_found() -> None:
    rng = np.random.default_rng(2)
    n = 300
    codes = rng.integers(0, 5, n)
    y = np.array([0.0, 1.0, 3.0, -2.0, 0.5])[codes] + rng.normal(0, 0.5, n)
    columns = [rng.normal(size=n), codes.astype(float), rng.uniform(size=n)]
    result = forest_importance(columns, [False, True, False], y)
    _check_normalised(result, 3)
    assert result.importances[1] > 0.8
    assert result.oob_r2 > 0.5


def test_a_bool_signal_is_found() -> None:
    rng = np.random.default_rng(3)
    n = 200
    flag = rng.integers(0, 2, n).astype(float)
    flag[rng.random(n) < 0.1] = np.nan
    y = np.where(flag == 1, 1.0, 0.0) + rng.normal(0, 0.2, n)
    result = forest_importance([rng.normal(size=n), flag], [False, False], y)
    assert result.importances[1] > 0.8


def test_a_column_thirty_percent_missing_still_ranks_first() -> None:
    columns, categorical, y = _sweep(400, seed=4, missing=0.3)
    assert np.isnan(columns[0]).mean() == pytest.approx(0.3, abs=0.06)
    result = forest_importance(columns, categorical, y)
    assert int(np.argmax(result.importances)) == 0
    assert result.importances[0] > 0.5
    assert result.oob_r2 > 0.3


def test_missingness_itself_can_be_the_signal() -> None:
    rng = np.random.default_rng(5)
    n = 300
    missing = rng.random(n) < 0.3
    y = np.where(missing, 2.0, 0.0) + rng.normal(0, 0.3, n)
    numeric = np.where(missing, np.nan, rng.normal(size=n))
    codes = np.where(missing, -1, rng.integers(0, 3, n)).astype(float)
    for column, is_categorical in ((numeric, False), (codes, True)):
        columns = [rng.normal(size=n), column, rng.normal(size=n)]
        result = forest_importance(columns, [False, is_categorical, False], y)
        assert result.importances[1] > 0.8, is_categorical
        assert result.oob_r2 > 0.5


def test_many_categories_work_and_an_id_like_column_is_not_important() -> None:
    rng = np.random.default_rng(6)
    n = 300
    lr = 10 ** rng.uniform(-4, 0, n)
    y = -((np.log10(lr) + 2) ** 2) + rng.normal(0, 0.3, n)
    run_name = rng.permutation(n).astype(float)  # one category per run
    wide = rng.integers(0, 80, n).astype(float)  # more categories than bins
    result = forest_importance([lr, run_name, wide], [False, True, True], y)
    _check_normalised(result, 3)
    assert result.importances[0] > 0.9
    assert result.importances[1] < 0.05


def test_same_seed_same_result_and_any_seed_finds_the_signal() -> None:
    columns, categorical, y = _sweep(300, seed=7)
    first = forest_importance(columns, categorical, y, seed=11)
    again = forest_importance(columns, categorical, y, seed=11)
    assert np.array_equal(first.importances, again.importances)
    assert first.oob_r2 == again.oob_r2
    for seed in (12, 13, 14):
        other = forest_importance(columns, categorical, y, seed=seed)
        assert int(np.argmax(other.importances)) == 0
        assert other.importances[0] > 0.5


def test_inputs_are_not_modified() -> None:
    columns, categorical, y = _sweep(100, seed=8, missing=0.2)
    copies = [c.copy() for c in columns]
    y_copy = y.copy()
    forest_importance(columns, categorical, y)
    for before, after in zip(copies, columns, strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(y_copy, y)


def test_too_few_runs_give_zeros_and_no_r2() -> None:
    columns, categorical, y = _sweep(5, seed=9)
    result = forest_importance(columns, categorical, y, min_leaf=3)
    np.testing.assert_array_equal(result.importances, np.zeros(5))
    assert math.isnan(result.oob_r2)
    empty = forest_importance([np.array([])], [False], np.array([]))
    np.testing.assert_array_equal(empty.importances, np.zeros(1))
    assert math.isnan(empty.oob_r2)


def test_no_columns() -> None:
    result = forest_importance([], [], np.arange(20.0))
    assert result.importances.shape == (0,)
    assert math.isnan(result.oob_r2)


def test_constant_metric_gives_zeros_and_no_r2() -> None:
    columns, categorical, _ = _sweep(50, seed=10)
    result = forest_importance(columns, categorical, np.full(50, 0.25))
    np.testing.assert_array_equal(result.importances, np.zeros(5))
    assert math.isnan(result.oob_r2)


def test_constant_and_entirely_missing_columns_get_exactly_zero() -> None:
    rng = np.random.default_rng(11)
    n = 200
    lr = 10 ** rng.uniform(-4, 0, n)
    y = -((np.log10(lr) + 2) ** 2) + rng.normal(0, 0.3, n)
    constant = np.full(n, 3.0)
    all_nan = np.full(n, np.nan)
    all_missing_codes = np.full(n, -1.0)
    one_category = np.zeros(n)
    result = forest_importance(
        [constant, lr, all_nan, all_missing_codes, one_category], [False, False, False, True, True], y
    )
    _check_normalised(result, 5)
    assert result.importances[1] == 1.0
    assert (result.importances[[0, 2, 3, 4]] == 0.0).all()


def test_nothing_to_learn_from_gives_zeros() -> None:
    rng = np.random.default_rng(12)
    n = 100
    y = rng.normal(size=n)
    result = forest_importance([np.ones(n), np.full(n, np.nan)], [False, False], y)
    np.testing.assert_array_equal(result.importances, np.zeros(2))
    assert result.oob_r2 <= 0.0  # the forest is a constant: no better than the mean
    stump = forest_importance([y.copy()], [False], y, max_depth=0)
    np.testing.assert_array_equal(stump.importances, np.zeros(1))


def test_invalid_inputs_are_refused() -> None:
    y = np.arange(10.0)
    with pytest.raises(ValueError, match="categorical flags"):
        forest_importance([y], [False, True], y)
    with pytest.raises(ValueError, match="one value per run"):
        forest_importance([y[:5]], [False], y)
    with pytest.raises(ValueError, match="finite"):
        forest_importance([y], [False], np.where(y > 5, np.nan, y))
    with pytest.raises(ValueError, match="at least"):
        forest_importance([y], [False], y, trees=0)

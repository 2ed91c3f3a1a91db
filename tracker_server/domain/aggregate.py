"""Vectorised group aggregates and sort orders for the comparison queries.

Aggregates follow one rule: a NaN among a group's values makes its aggregate NaN, so a diverged run
is never averaged away. Sorting follows another: NaN comes after every number whichever the
direction, missing values go first or last as asked, and values of different types order as
bool < number < string. Both run over every group at once with numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker_server.domain.compare_types import Aggregate
from tracker_server.domain.model import HParamValue

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class GroupValues:
    """One value per group: ``values`` where ``present``, undefined elsewhere."""

    values: FloatArray
    present: BoolArray


def aggregate(
    values: FloatArray, present: BoolArray, groups: IntArray, n_groups: int, how: Aggregate
) -> GroupValues:
    """Aggregate per-run ``values`` (where ``present``) into ``n_groups`` groups.

    ``groups`` gives each run's group index. A group none of whose runs has a value is not
    present; a NaN among its values makes the aggregate NaN; ``std`` is the population standard
    deviation (0 for one run).
    """
    g = groups[present]
    v = values[present]
    count = np.bincount(g, minlength=n_groups)
    has = count > 0
    nan = np.isnan(v)
    poisoned = np.bincount(g[nan], minlength=n_groups) > 0
    g_ok, v_ok = g[~nan], v[~nan]
    with np.errstate(invalid="ignore", divide="ignore"):
        if how in ("mean", "std"):
            mean = np.bincount(g_ok, weights=v_ok, minlength=n_groups) / np.maximum(count, 1)
            if how == "mean":
                out = mean
            else:
                deviation = v_ok - mean[g_ok]
                out = np.sqrt(
                    np.bincount(g_ok, weights=deviation * deviation, minlength=n_groups)
                    / np.maximum(count, 1)
                )
                out[count == 1] = 0.0  # one run deviates from nothing, even when its value is infinite
        elif how == "min":
            out = np.full(n_groups, np.inf)
            np.minimum.at(out, g_ok, v_ok)
        elif how == "max":
            out = np.full(n_groups, -np.inf)
            np.maximum.at(out, g_ok, v_ok)
        elif how == "median":
            out = _median(g_ok, v_ok, n_groups)
        else:
            raise ValueError(f"unknown aggregate {how!r}")
    out = np.where(poisoned, np.nan, out)
    return GroupValues(values=out.astype(np.float64), present=has)


def _median(groups: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """The median of each group's values (mean of the two middle ones for an even count)."""
    order = np.lexsort((values, groups))
    sorted_values = values[order]
    count = np.bincount(groups, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    low = start + np.maximum(count - 1, 0) // 2
    high = start + count // 2
    out = np.full(n_groups, np.nan)
    ok = count > 0
    if sorted_values.size:
        out[ok] = (sorted_values[low[ok]] + sorted_values[high[ok]]) / 2
    return out


@dataclass(frozen=True, slots=True)
class SortColumn:
    """A column to sort groups by, as keys numpy can order: a type rank and a value per group."""

    present: BoolArray
    nan: BoolArray
    type_rank: IntArray
    value: FloatArray
    descending: bool
    missing_first: bool


def numeric_sort_column(column: GroupValues, *, descending: bool, missing_first: bool) -> SortColumn:
    nan = column.present & np.isnan(column.values)
    return SortColumn(
        present=column.present,
        nan=nan,
        type_rank=np.ones(column.values.size, dtype=np.int64),
        value=np.where(column.present & ~nan, column.values, 0.0),
        descending=descending,
        missing_first=missing_first,
    )


_TYPE_RANK = {bool: 0, int: 1, float: 1, str: 2}


def mixed_sort_column(
    values: Sequence[HParamValue | None], *, descending: bool, missing_first: bool
) -> SortColumn:
    """Sort keys for hyperparameter values of any types (None: missing)."""
    strings = sorted({v for v in values if isinstance(v, str)})
    code = {s: float(i) for i, s in enumerate(strings)}
    n = len(values)
    present = np.zeros(n, dtype=bool)
    nan = np.zeros(n, dtype=bool)
    type_rank = np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=np.float64)
    for i, v in enumerate(values):
        if v is None:
            continue
        present[i] = True
        type_rank[i] = _TYPE_RANK[type(v)]
        if isinstance(v, str):
            key[i] = code[v]
        elif isinstance(v, float) and math.isnan(v):
            nan[i] = True
        else:
            key[i] = float(v)
    return SortColumn(present, nan, type_rank, key, descending, missing_first)


def sort_order(columns: Sequence[SortColumn], n: int) -> IntArray:
    """Positions of ``n`` groups in sorted order: by the columns in turn, ties in the given order."""
    keys: list[npt.NDArray[np.generic]] = [np.arange(n)]
    for column in reversed(columns):  # np.lexsort sorts by its last key first
        sign = -1 if column.descending else 1
        missing_rank = (
            np.where(column.present, 1, 0) if column.missing_first else np.where(column.present, 0, 1)
        )
        keys += [sign * column.value, sign * column.type_rank, column.nan.astype(np.int64), missing_rank]
    return np.lexsort(keys).astype(np.int64)

"""Parameter importance for one metric over a project's runs: rank correlation and a random forest.

A correlation answers "does the metric go up or down with this hyperparameter"; it misses a
hyperparameter with an optimum in the middle (a learning rate) and a categorical one. So we also
fit a small random forest of regression trees to (hyperparameters -> metric) and report each
column's permutation importance on the out-of-bag runs: how much worse the forest predicts runs
it did not train on when that column is shuffled among them. Out-of-bag measurement keeps a
column the trees merely memorised from looking important, and the out-of-bag R^2 tells the reader
whether the forest learned anything at all.

The forest is written with numpy (scikit-learn is not a dependency) and grows each tree one level
at a time: the split search for every node of a level is two ``bincount`` calls over pre-binned
columns, and a split tries about sqrt(columns) of them, drawn at random, picking the largest
variance reduction. Leaves keep at least ``min_leaf`` (bootstrap) samples.
Numeric columns get up to 32 quantile bins; a categorical column keeps its 31 most frequent values
(rarer ones share a bin) and is split on its categories ordered by mean metric within the node.
Missing values (NaN, or code -1) have a bin of their own that a split may send either way; a value
a node never saw while training goes to its larger child.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

_VALUE_BINS = 32  # per column, not counting the missing bin
_WIDTH = _VALUE_BINS + 1  # bin 0 is "missing"


def _average_ranks(values: FloatArray) -> FloatArray:
    """Ranks 1..n, tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def spearman(x: FloatArray, y: FloatArray) -> float | None:
    """Spearman rank correlation over the pairs where neither value is NaN.

    None when fewer than three pairs remain or either side is constant among them.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = ~(np.isnan(x) | np.isnan(y))
    if int(keep.sum()) < 3:
        return None
    a = _average_ranks(x[keep])
    b = _average_ranks(y[keep])
    a -= a.mean()
    b -= b.mean()
    saa, sbb = float(a @ a), float(b @ b)
    if saa == 0.0 or sbb == 0.0:
        return None
    return max(-1.0, min(1.0, float(a @ b) / math.sqrt(saa * sbb)))


@dataclass(frozen=True, slots=True, eq=False)
class ImportanceResult:
    """Per-column importance (>= 0, summing to 1, or all zeros) and the forest's out-of-bag R^2."""

    importances: FloatArray
    oob_r2: float


def _bin_numeric(column: FloatArray) -> IntArray:
    """0 for NaN, else 1..32: each distinct value its own bin when there are few, else quantiles."""
    out = np.zeros(column.size, dtype=np.intp)
    present = ~np.isnan(column)
    values = column[present]
    if values.size == 0:
        return out
    distinct = np.unique(values)
    if distinct.size <= _VALUE_BINS:
        edges = distinct[1:]
    else:
        ordered = np.sort(values)
        edges = np.unique(ordered[(np.arange(1, _VALUE_BINS) * ordered.size) // _VALUE_BINS])
    out[present] = np.searchsorted(edges, values, side="right") + 1
    return out


def _bin_categorical(codes: npt.NDArray[np.int64]) -> IntArray:
    """0 for code -1, then a bin per code; past 32 codes the 31 most frequent keep theirs, the rest share."""
    out = np.zeros(codes.size, dtype=np.intp)
    present = codes >= 0
    if not present.any():
        return out
    counts = np.bincount(codes[present])
    if counts.size <= _VALUE_BINS:
        out[present] = codes[present] + 1
        return out
    lookup = np.full(counts.size, _VALUE_BINS, dtype=np.intp)
    frequent = np.argsort(-counts, kind="stable")[: _VALUE_BINS - 1]
    lookup[frequent] = np.arange(1, _VALUE_BINS)
    out[present] = lookup[codes[present]]
    return out


@dataclass(frozen=True, slots=True, eq=False)
class _Tree:
    """Nodes in creation order. A leaf points at itself, so prediction can run a fixed number of steps."""

    feature: IntArray
    go_left: BoolArray  # (nodes * _WIDTH,): does bin b of the node's feature go left
    left: IntArray
    right: IntArray
    value: FloatArray
    depth: int


def _predict(tree: _Tree, binned: IntArray) -> FloatArray:
    """Predictions for the rows of ``binned`` (rows x columns, C order)."""
    rows, d = binned.shape
    flat = binned.reshape(-1)
    base = np.arange(rows, dtype=np.intp) * d
    node = np.zeros(rows, dtype=np.intp)
    for _ in range(tree.depth):
        bins = flat[base + tree.feature[node]]
        node = np.where(tree.go_left[node * _WIDTH + bins], tree.left[node], tree.right[node])
    return tree.value[node]


@dataclass(frozen=True, slots=True, eq=False)
class _Splits:
    """The nodes of one level that split: which column, which bins go left, the children's values."""

    nodes: IntArray
    feature: IntArray
    go_left: BoolArray  # (nodes, _WIDTH)
    child_values: FloatArray  # left, right, left, right, ...


def _best_splits(
    x: IntArray,
    loc: IntArray,
    w: FloatArray,
    wy: FloatArray,
    width: int,
    is_categorical: BoolArray,
    rng: np.random.Generator,
    *,
    min_leaf: int,
    tries: int,
) -> _Splits:
    """The variance-reducing split of each of a level's ``width`` nodes, found for all of them at once.

    ``x`` holds the samples' bins, column j offset by ``j * _WIDTH``; ``loc`` their node within the
    level; ``w`` their bootstrap multiplicity and ``wy`` that times the (standardised) metric.
    """
    d = is_categorical.size
    categorical = np.flatnonzero(is_categorical)
    numeric = np.flatnonzero(~is_categorical)
    n_node = np.bincount(loc, weights=w, minlength=width)
    s_node = np.bincount(loc, weights=wy, minlength=width)
    keys = ((loc * (d * _WIDTH))[:, None] + x).reshape(-1)
    size = width * d * _WIDTH
    cnt = np.bincount(keys, np.repeat(w, d), minlength=size).reshape(width, d, _WIDTH)
    sm = np.bincount(keys, np.repeat(wy, d), minlength=size).reshape(width, d, _WIDTH)
    # The order in which bins may be cut: by bin for numeric columns (missing aside, it may join
    # either side), by mean metric for categorical ones (missing is one more category there).
    order = np.broadcast_to(np.arange(_WIDTH, dtype=np.intp), cnt.shape).copy()
    o_cnt, o_sm = cnt.copy(), sm.copy()
    if categorical.size:
        c_cnt, c_sm = cnt[:, categorical], sm[:, categorical]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(c_cnt > 0, c_sm / c_cnt, np.inf)
        c_order = np.argsort(mean, axis=2, kind="stable")
        order[:, categorical] = c_order
        o_cnt[:, categorical] = np.take_along_axis(c_cnt, c_order, axis=2)
        o_sm[:, categorical] = np.take_along_axis(c_sm, c_order, axis=2)
    miss_n = np.zeros((width, d, 1))
    miss_s = np.zeros((width, d, 1))
    miss_n[:, numeric, 0] = cnt[:, numeric, 0]
    miss_s[:, numeric, 0] = sm[:, numeric, 0]
    o_cnt[:, numeric, 0] = 0.0
    o_sm[:, numeric, 0] = 0.0
    cum_n = np.cumsum(o_cnt, axis=2)
    cum_s = np.cumsum(o_sm, axis=2)
    # Cut after ordered position p; option 0 sends missing right, option 1 left: (2, width, d, _WIDTH).
    n_left = np.stack([cum_n, cum_n + miss_n])
    s_left = np.stack([cum_s, cum_s + miss_s])
    n_right = n_node[:, None, None] - n_left
    s_right = s_node[:, None, None] - s_left
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = (
            s_left * s_left / n_left + s_right * s_right / n_right - (s_node * s_node / n_node)[:, None, None]
        )
    gain[(n_left < min_leaf) | (n_right < min_leaf)] = -np.inf
    gain = np.moveaxis(gain, 0, 2).reshape(width, d, 2 * _WIDTH)
    best_cut = np.argmax(gain, axis=2)
    best_gain = np.take_along_axis(gain, best_cut[:, :, None], axis=2)[:, :, 0]
    usable = best_gain > 1e-9 * n_node[:, None]
    # Columns are drawn in a random order per node and the best of the first ``tries`` usable ones
    # wins: like scikit-learn, we draw on past columns that cannot split the node.
    draw = rng.random((width, d))
    draw[~usable] = np.inf
    if tries < d:
        cutoff = np.partition(draw, tries - 1, axis=1)[:, tries - 1]
        usable &= draw <= cutoff[:, None]
    chosen = np.argmax(np.where(usable, best_gain, -np.inf), axis=1)
    nodes = np.flatnonzero(np.count_nonzero(usable, axis=1))
    f = chosen[nodes]
    cut = best_cut[nodes, f]
    option, position = cut // _WIDTH, cut % _WIDTH
    node_order = order[nodes, f]
    rank = np.empty_like(node_order)
    np.put_along_axis(rank, node_order, np.broadcast_to(np.arange(_WIDTH), node_order.shape), 1)
    go_left = rank <= position[:, None]
    numeric_node = ~is_categorical[f]
    go_left[numeric_node, 0] = option[numeric_node] == 1
    nl = n_left[option, nodes, f, position]
    sl = s_left[option, nodes, f, position]
    nr = n_node[nodes] - nl
    sr = s_node[nodes] - sl
    # A bin the node never saw goes to the larger child; for a numeric column only the missing bin
    # counts as unseen (an empty value bin follows the threshold).
    unseen = cnt[nodes, f] == 0
    unseen[numeric_node, 1:] = False
    go_left = np.where(unseen, (nl >= nr)[:, None], go_left)
    return _Splits(
        nodes=nodes,
        feature=f,
        go_left=go_left,
        child_values=np.column_stack([sl / nl, sr / nr]).reshape(-1),
    )


def _grow(
    binned: IntArray,
    is_categorical: BoolArray,
    y: FloatArray,
    rows: IntArray,
    weight: FloatArray,
    rng: np.random.Generator,
    *,
    max_depth: int,
    min_leaf: int,
    tries: int,
) -> _Tree:
    """One regression tree on ``rows`` with bootstrap multiplicities ``weight``, grown level by level."""
    d = binned.shape[1]
    x = binned[rows] + np.arange(d, dtype=np.intp) * _WIDTH
    w = weight
    wy = weight * y[rows]
    loc = np.zeros(rows.size, dtype=np.intp)  # each sample's node, counted from the level's first
    features: list[IntArray] = []
    tables: list[BoolArray] = []
    lefts: list[IntArray] = []
    rights: list[IntArray] = []
    values: list[FloatArray] = [np.array([float(wy.sum()) / float(w.sum())])]
    first, width = 0, 1  # the level's nodes are first .. first + width - 1
    depth = 0
    while width:
        ids = np.arange(first, first + width, dtype=np.intp)
        feature = np.zeros(width, dtype=np.intp)
        table = np.zeros((width, _WIDTH), dtype=np.bool_)
        left, right = ids.copy(), ids.copy()  # a leaf points at itself
        n_split = 0
        if depth < max_depth:
            splits = _best_splits(x, loc, w, wy, width, is_categorical, rng, min_leaf=min_leaf, tries=tries)
            nodes = splits.nodes
            n_split = nodes.size
            if n_split:
                table[nodes] = splits.go_left
                feature[nodes] = splits.feature
                left[nodes] = first + width + 2 * np.arange(n_split)
                right[nodes] = left[nodes] + 1
                values.append(splits.child_values)
                # Send the samples of split nodes to their children; the others have reached a leaf.
                child = np.full(width, -1, dtype=np.intp)
                child[nodes] = 2 * np.arange(n_split)
                keep = child[loc] >= 0
                x, w, wy, loc = x[keep], w[keep], wy[keep], loc[keep]
                column = feature[loc]
                bins = x[np.arange(loc.size), column] - column * _WIDTH
                goes_right: BoolArray = ~table[loc, bins]
                loc = child[loc] + goes_right.astype(np.intp)
                depth += 1
        features.append(feature)
        tables.append(table.reshape(-1))
        lefts.append(left)
        rights.append(right)
        first, width = first + width, 2 * n_split
    return _Tree(
        feature=np.concatenate(features),
        go_left=np.concatenate(tables),
        left=np.concatenate(lefts),
        right=np.concatenate(rights),
        value=np.concatenate(values),
        depth=depth,
    )


def forest_importance(
    columns: Sequence[npt.NDArray[np.generic]],
    categorical: Sequence[bool],
    y: FloatArray,
    *,
    trees: int = 48,
    max_depth: int = 6,
    min_leaf: int = 3,
    seed: int = 0,
) -> ImportanceResult:
    """Permutation importance of each column for predicting ``y``, from a random forest.

    ``columns[j]`` holds one value per run: floats with NaN for missing (numeric and bool columns)
    or, where ``categorical[j]``, integer codes 0..k-1 with -1 for missing. ``y`` is finite. The
    result is deterministic for a given ``seed``; importances are all zeros when there is nothing
    to learn from (fewer than ``2 * min_leaf`` runs, a constant ``y``, no column that helps).
    """
    y = np.asarray(y, dtype=np.float64)
    n, d = y.size, len(columns)
    if len(categorical) != d:
        raise ValueError(f"{d} columns but {len(categorical)} categorical flags")
    if any(np.shape(c) != (n,) for c in columns):
        raise ValueError(f"every column must hold one value per run ({n})")
    if not np.isfinite(y).all():
        raise ValueError("y must be finite")
    if trees < 1 or max_depth < 0 or min_leaf < 1:
        raise ValueError("trees and min_leaf must be at least 1, max_depth at least 0")
    nothing = ImportanceResult(importances=np.zeros(d), oob_r2=math.nan)
    if d == 0 or n < 2 * min_leaf or float(np.ptp(y)) == 0.0:
        return nothing
    is_categorical = np.array(categorical, dtype=np.bool_)
    binned = np.empty((n, d), dtype=np.intp)
    for j, column in enumerate(columns):
        if is_categorical[j]:
            binned[:, j] = _bin_categorical(np.asarray(column).astype(np.int64))
        else:
            binned[:, j] = _bin_numeric(np.asarray(column, dtype=np.float64))
    target = (y - y.mean()) / y.std()
    tries = max(1, math.ceil(math.sqrt(d)))
    rng = np.random.default_rng(seed)
    increase = np.zeros(d)
    measured = 0
    oob_sum = np.zeros(n)
    oob_count = np.zeros(n)
    for _ in range(trees):
        multiplicity = np.bincount(rng.integers(0, n, size=n), minlength=n)
        rows = np.flatnonzero(multiplicity)
        tree = _grow(
            binned,
            is_categorical,
            target,
            rows,
            multiplicity[rows].astype(np.float64),
            rng,
            max_depth=max_depth,
            min_leaf=min_leaf,
            tries=tries,
        )
        oob = np.flatnonzero(multiplicity == 0)
        if oob.size < 2:
            continue
        used = np.unique(tree.feature[tree.left != np.arange(tree.left.size)])
        held_out = binned[oob]
        # The held-out rows as they are, then once per used column with that column shuffled.
        stacked = np.tile(held_out, (used.size + 1, 1))
        m = oob.size
        for i, j in enumerate(used):
            stacked[(i + 1) * m : (i + 2) * m, j] = held_out[rng.permutation(m), j]
        predicted = _predict(tree, stacked).reshape(used.size + 1, m)
        errors = ((predicted - target[oob]) ** 2).mean(axis=1)
        increase[used] += errors[1:] - errors[0]
        measured += 1
        oob_sum[oob] += predicted[0]
        oob_count[oob] += 1
    seen = oob_count > 0
    r2 = math.nan
    if int(seen.sum()) >= 2:
        truth = target[seen]
        spread = float(((truth - truth.mean()) ** 2).sum())
        if spread > 0.0:
            r2 = 1.0 - float(((truth - oob_sum[seen] / oob_count[seen]) ** 2).sum()) / spread
    importance = np.clip(increase / max(measured, 1), 0.0, None)
    total = float(importance.sum())
    if total <= 0.0:
        return ImportanceResult(importances=np.zeros(d), oob_r2=r2)
    return ImportanceResult(importances=importance / total, oob_r2=r2)

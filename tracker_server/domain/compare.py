"""Comparing runs: the experiment schema, HParams session groups, best combinations, importance.

Every query runs on the project's in-memory index (``domain.project_index``), brought up to date
inside the query's read transaction: hyperparameter filters test each run, runs with identical
hyperparameters (one group key) form groups, whose metric values are aggregated, filtered and
sorted with numpy (``domain.aggregate``); only the page returned is described in full.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection

from tracker_server.domain import importance as model
from tracker_server.domain.aggregate import (
    GroupValues,
    SortColumn,
    aggregate,
    mixed_sort_column,
    numeric_sort_column,
    sort_order,
)
from tracker_server.domain.compare_types import (
    AGGREGATES,
    METRIC_VALUES,
    Axis,
    Column,
    Experiment,
    Filter,
    GroupQuery,
    HParamImportance,
    HParamInfo,
    ImportanceReport,
    Interval,
    MetricInfo,
    MetricValue,
    SessionGroup,
    SessionGroups,
    SessionRun,
    Sort,
    ValueType,
)
from tracker_server.domain.errors import InvalidArgument, NotFound
from tracker_server.domain.group_key import group_key
from tracker_server.domain.model import HParamValue, RunStatus
from tracker_server.domain.project_index import IndexCache, ProjectIndex
from tracker_server.domain.validation import check_name, page_size
from tracker_server.domain.where import Condition, parse_where
from tracker_server.store import runs as run_store
from tracker_server.store.engine import Database

RUN_STATUSES = ("running", "finished", "failed", "killed")
MAX_DISTINCT_VALUES = 1000
MAX_REGEX_LENGTH = 256


def _check_choice(field: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InvalidArgument(f"{field} must be one of {', '.join(choices)}, got {value!r}")


def _index(conn: Connection, cache: IndexCache, project: str) -> ProjectIndex:
    check_name("project", project)
    project_id = run_store.project_id(conn, project)
    if project_id is None:
        raise NotFound(f"project {project!r} does not exist")
    return cache.get(conn, project_id)


# -- experiment schema ---------------------------------------------------------------------------


def experiment(
    db: Database, cache: IndexCache, project: str, *, metric_value: MetricValue = "last"
) -> Experiment:
    """Every hyperparameter with its type, domain and whether it differs; every metric with how
    many runs have it and the range of their values. A hyperparameter missing from some runs is
    listed all the same."""
    _check_choice("metric_value", metric_value, METRIC_VALUES)
    with db.read() as conn:
        index = _index(conn, cache, project)
    return _experiment(index, project, metric_value)


def _experiment(index: ProjectIndex, project: str, metric_value: MetricValue) -> Experiment:
    hparams = index._memo(
        "hparam_infos",
        lambda: tuple(
            _hparam_info(name, values, index.size)
            for name, values in index.hparams.items()
            if any(v is not None for v in values)
        ),
    )
    metrics = []
    for tag, column in index.metrics.items():
        values = column.values(metric_value)[column.present]
        finite = values[np.isfinite(values)]
        domain = Interval(float(finite.min()), float(finite.max())) if finite.size else None
        metrics.append(MetricInfo(tag, int(column.present.sum()), domain))
    return Experiment(project, index.size, hparams, tuple(m for m in metrics if m.run_count))


def _hparam_info(name: str, values: Sequence[HParamValue | None], runs: int) -> HParamInfo:
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    value_type = _value_type(kinds)
    distinct = _distinct(present)
    domain: Interval | tuple[HParamValue, ...]
    truncated = False
    if value_type == "number":
        finite = [float(v) for v in present if isinstance(v, int | float) and math.isfinite(float(v))]
        domain = Interval(min(finite), max(finite)) if finite else Interval()
    else:
        ordered = sorted(distinct, key=_value_order)
        truncated = len(ordered) > MAX_DISTINCT_VALUES
        domain = tuple(ordered[:MAX_DISTINCT_VALUES])
    return HParamInfo(
        name, value_type, domain, truncated, len(distinct) > 1 or len(present) < runs, len(present)
    )


def _distinct(values: Sequence[HParamValue]) -> list[HParamValue]:
    """Distinct values as grouping sees them: numbers by value, bools and strings by themselves."""
    seen: dict[tuple[str, Any], HParamValue] = {}
    for v in values:
        key = ("b", v) if isinstance(v, bool) else ("s", v) if isinstance(v, str) else ("n", float(v))
        seen.setdefault(key, v)
    return list(seen.values())


def _value_type(kinds: set[type]) -> ValueType:
    if kinds <= {int, float}:
        return "number"
    if kinds == {bool}:
        return "bool"
    return "string"  # strings, or a name whose values have several types


def _value_order(value: HParamValue) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, value)
    return (2, value)


# -- where expressions ---------------------------------------------------------------------------


def resolve_where(text: str, hparams: set[str], metrics: set[str]) -> tuple[Filter, ...]:
    """Turn a `where` expression into filters: a name is a hyperparameter if the project has one
    of that name, else a metric."""
    return tuple(_condition_filter(c, text, hparams, metrics) for c in parse_where(text))


def _condition_filter(condition: Condition, text: str, hparams: set[str], metrics: set[str]) -> Filter:
    where = f"at column {condition.position + 1}"
    if condition.name in hparams:
        column = Column("hparam", condition.name)
    elif condition.name in metrics:
        column = Column("metric", condition.name)
    else:
        raise InvalidArgument(
            f"where: unknown name {condition.name!r} {where}: it is neither a hyperparameter nor a metric "
            "of this project"
        )
    op = condition.op
    values = condition.values if op in ("in", "not in") else (condition.value,)
    if column.kind == "metric" and any(isinstance(v, bool | str) for v in values):
        raise InvalidArgument(
            f"where: metric {condition.name!r} {where} is a number; compare it with numbers"
        )
    if op in ("=", "in"):
        return Filter(column, one_of=tuple(v for v in values if v is not None))
    if op in ("!=", "not in"):
        return Filter(column, none_of=tuple(v for v in values if v is not None))
    bound = condition.value
    if isinstance(bound, bool) or not isinstance(bound, int | float):
        raise InvalidArgument(f"where: {op} {where} needs a number, got {bound!r}")
    bound = float(bound)
    interval = {
        "<": Interval(max=bound, max_open=True),
        "<=": Interval(max=bound),
        ">": Interval(min=bound, min_open=True),
        ">=": Interval(min=bound),
    }[op]
    return Filter(column, interval=interval)


# -- value tests ---------------------------------------------------------------------------------


def _same(a: HParamValue, b: HParamValue) -> bool:
    """Equality as grouping sees it: numbers by value (NaN equals NaN, so `x != nan` drops the runs
    that diverged), bools only with bools, strings with strings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    fa, fb = float(a), float(b)
    return fa == fb or (math.isnan(fa) and math.isnan(fb))


def _passes(test: Filter, value: HParamValue, pattern: re.Pattern[str] | None) -> bool:
    if test.interval is not None:
        return not isinstance(value, bool | str) and test.interval.contains(float(value))
    if test.one_of is not None:
        return any(_same(value, v) for v in test.one_of)
    if test.none_of is not None:
        return not any(_same(value, v) for v in test.none_of)
    if pattern is not None:
        return isinstance(value, str) and pattern.search(value) is not None
    return True


def _compile(test: Filter) -> re.Pattern[str] | None:
    if test.regex is None:
        return None
    if len(test.regex) > MAX_REGEX_LENGTH:
        raise InvalidArgument(
            f"filter regex is {len(test.regex)} characters long; the limit is {MAX_REGEX_LENGTH}"
        )
    try:
        return re.compile(test.regex)
    except re.error as exc:
        raise InvalidArgument(
            f"filter regex {test.regex!r} is not a valid regular expression: {exc}"
        ) from None


def _check_filter(test: Filter) -> None:
    given = [t for t in (test.interval, test.one_of, test.none_of, test.regex) if t is not None]
    if len(given) > 1:
        raise InvalidArgument(f"filter on {test.column.name!r} has {len(given)} tests; give one")
    if test.column.kind == "metric" and test.regex is not None:
        raise InvalidArgument(
            f"filter on metric {test.column.name!r}: a regex applies to string hyperparameters"
        )


# -- session groups ------------------------------------------------------------------------------


def session_groups(db: Database, cache: IndexCache, query: GroupQuery) -> SessionGroups:
    """TensorBoard's ListSessionGroups: filter runs, group them, aggregate, sort, page."""
    _check_choice("metric_value", query.metric_value, METRIC_VALUES)
    _check_choice("aggregate", query.aggregate, AGGREGATES)
    for status in query.statuses:
        _check_choice("statuses", status, RUN_STATUSES)
    if query.offset < 0:
        raise InvalidArgument(f"offset must be >= 0, got {query.offset}")
    limit = page_size(query.page_size)
    with db.read() as conn:
        index = _index(conn, cache, query.project)
    filters = _checked_filters(index, query)
    selection = _select(index, query, filters)
    order = _order(index, selection, query.sort)
    page = order[query.offset : query.offset + limit]
    return SessionGroups(
        axes=_axes(_experiment(index, query.project, query.metric_value), query.metrics),
        groups=_describe(index, query, selection, page),
        total=int(order.size),
    )


def _checked_filters(index: ProjectIndex, query: GroupQuery) -> tuple[Filter, ...]:
    hparams = {name for name, values in index.hparams.items() if any(v is not None for v in values)}
    metrics = set(index.metrics)
    filters = query.filters + resolve_where(query.where, hparams, metrics)
    for column in [f.column for f in filters] + [s.column for s in query.sort]:
        if column.name not in (hparams if column.kind == "hparam" else metrics):
            raise InvalidArgument(f"project {query.project!r} has no {column.kind} named {column.name!r}")
    for tag in query.metrics or ():
        if tag not in metrics:
            raise InvalidArgument(f"project {query.project!r} has no metric named {tag!r}")
    for name in query.ignore_hparams:
        if name not in hparams:
            raise InvalidArgument(f"ignore_hparams: project {query.project!r} has no hparam named {name!r}")
    for test in filters:
        _check_filter(test)
    return filters


class _Selection:
    """The rows (runs) that passed, their group numbers, and per group its rows and sort values."""

    def __init__(
        self, rows: np.ndarray, group_of_row: np.ndarray, n_groups: int, metrics: dict[str, GroupValues]
    ) -> None:
        self.rows = rows
        self.group_of_row = group_of_row
        self.n_groups = n_groups
        self.metrics = metrics
        order = np.argsort(group_of_row, kind="stable")
        self.members = np.split(rows[order], np.cumsum(np.bincount(group_of_row, minlength=n_groups))[:-1])


def _select(index: ProjectIndex, query: GroupQuery, filters: Sequence[Filter]) -> _Selection:
    keep = np.ones(index.size, dtype=bool)
    if query.statuses:
        keep &= np.isin(index.status_array(), list(query.statuses))
    for test in (f for f in filters if f.column.kind == "hparam"):
        keep &= _hparam_mask(index.hparams[test.column.name], test)
    rows = np.flatnonzero(keep)
    # Groups are numbered in order of their first run's creation, the ties' order in every sort.
    keys = _group_keys(index, query.ignore_hparams) if query.grouped else index.ids
    created = index.created[rows]
    first = np.lexsort((np.array([keys[r] for r in rows], dtype=object).astype(str), created))
    numbers: dict[str, int] = {}
    for position in first:
        numbers.setdefault(keys[rows[position]], len(numbers))
    group_of_row = np.fromiter((numbers[keys[r]] for r in rows), dtype=np.int64, count=rows.size)
    n_groups = len(numbers)
    tags = {f.column.name for f in filters if f.column.kind == "metric"} | {
        s.column.name for s in query.sort if s.column.kind == "metric"
    }
    how = query.aggregate if query.grouped else "mean"
    metrics = {}
    for tag in tags:
        column = index.metrics[tag]
        metrics[tag] = aggregate(
            column.values(query.metric_value)[rows], column.present[rows], group_of_row, n_groups, how
        )
    passed = np.ones(n_groups, dtype=bool)
    for test in (f for f in filters if f.column.kind == "metric"):
        aggregated = metrics[test.column.name]
        passed &= np.where(aggregated.present, _metric_passes(test, aggregated.values), test.include_missing)
    if not passed.all():
        kept = passed[group_of_row]
        rows, group_of_row = rows[kept], (np.cumsum(passed) - 1)[group_of_row[kept]]
        metrics = {tag: GroupValues(v.values[passed], v.present[passed]) for tag, v in metrics.items()}
        n_groups = int(passed.sum())
    return _Selection(rows, group_of_row, n_groups, metrics)


def _group_keys(index: ProjectIndex, ignore: Sequence[str]) -> tuple[str, ...]:
    """Each run's group key; leaving out the ``ignore``d hyperparameters, runs that differ only in
    them share one."""
    if not ignore:
        return index.group_keys
    names = [name for name in index.hparams if name not in set(ignore)]

    def make() -> tuple[str, ...]:
        return tuple(
            group_key({n: v for n in names if (v := index.hparams[n][row]) is not None})
            for row in range(index.size)
        )

    keys: tuple[str, ...] = index._memo(("group_keys", tuple(sorted(set(ignore)))), make)
    return keys


def _hparam_mask(values: Sequence[HParamValue | None], test: Filter) -> np.ndarray:
    pattern = _compile(test)
    return np.fromiter(
        (test.include_missing if v is None else _passes(test, v, pattern) for v in values),
        dtype=bool,
        count=len(values),
    )


def _metric_passes(test: Filter, values: np.ndarray) -> np.ndarray:
    if test.interval is not None:
        return np.fromiter((test.interval.contains(float(v)) for v in values), dtype=bool, count=values.size)
    if test.one_of is not None:
        return _equal_any(values, test.one_of)
    if test.none_of is not None:
        return ~_equal_any(values, test.none_of)
    return np.ones(values.size, dtype=bool)


def _equal_any(values: np.ndarray, choices: Sequence[HParamValue]) -> np.ndarray:
    """Per value, whether it equals one of ``choices`` (NaN equals NaN, as in ``_same``)."""
    numbers = np.array([float(v) for v in choices], dtype=np.float64)
    found: np.ndarray = np.isin(values, numbers) | (np.isnan(values) & bool(np.isnan(numbers).any()))
    return found


def _order(index: ProjectIndex, selection: _Selection, sorts: Sequence[Sort]) -> np.ndarray:
    columns: list[SortColumn] = []
    for sort in sorts:
        if sort.column.kind == "metric":
            columns.append(
                numeric_sort_column(
                    selection.metrics[sort.column.name],
                    descending=sort.descending,
                    missing_first=sort.missing_first,
                )
            )
        else:
            values = index.hparams[sort.column.name]
            columns.append(
                mixed_sort_column(
                    [values[m[0]] for m in selection.members],
                    descending=sort.descending,
                    missing_first=sort.missing_first,
                )
            )
    return sort_order(columns, selection.n_groups)


def _describe(
    index: ProjectIndex, query: GroupQuery, selection: _Selection, page: np.ndarray
) -> tuple[SessionGroup, ...]:
    """Every hyperparameter and the requested metrics of the groups on the page, with their runs."""
    tags = list(query.metrics) if query.metrics is not None else list(index.metrics)
    how = query.aggregate if query.grouped else "mean"
    groups = []
    for g in page:
        members = selection.members[int(g)]
        first = int(members[0])
        per_run: dict[str, dict[str, float]] = {}
        per_tag: dict[str, float] = {}
        for tag in tags:
            column = index.metrics[tag]
            present = column.present[members]
            if not present.any():
                continue
            values = column.values(query.metric_value)[members]
            result = aggregate(values, present, np.zeros(members.size, dtype=np.int64), 1, how)
            per_tag[tag] = float(result.values[0])
            for row, has, value in zip(members, present, values, strict=True):
                if has:
                    per_run.setdefault(index.ids[row], {})[tag] = float(value)
        ignored = set(query.ignore_hparams) if query.grouped else set()
        groups.append(
            SessionGroup(
                key=_group_keys(index, query.ignore_hparams)[first] if query.grouped else index.ids[first],
                hparams={
                    name: v
                    for name, values in index.hparams.items()
                    if (v := values[first]) is not None and name not in ignored
                },
                metrics=per_tag,
                runs=tuple(
                    SessionRun(
                        index.ids[r],
                        index.names[r],
                        index.statuses[r],
                        per_run.get(index.ids[r], {}),
                    )
                    for r in members
                ),
            )
        )
    return tuple(groups)


def _axes(schema: Experiment, metrics: Sequence[str] | None) -> tuple[Axis, ...]:
    wanted = None if metrics is None else set(metrics)
    return tuple(
        [Axis(Column("hparam", h.name), h.type, h.domain, h.domain_truncated) for h in schema.hparams]
        + [
            Axis(Column("metric", m.tag), "number", m.domain)
            for m in schema.metrics
            if wanted is None or m.tag in wanted
        ]
    )


# -- importance ----------------------------------------------------------------------------------


def importance(
    db: Database,
    cache: IndexCache,
    project: str,
    metric: str,
    *,
    metric_value: MetricValue = "last",
    where: str = "",
    statuses: tuple[RunStatus, ...] = (),
) -> ImportanceReport:
    """Per hyperparameter: Spearman correlation with the metric and permutation importance in a
    random forest, over the runs (filtered by ``where``) with a finite value of the metric."""
    _check_choice("metric_value", metric_value, METRIC_VALUES)
    with db.read() as conn:
        index = _index(conn, cache, project)
    if metric not in index.metrics:
        raise InvalidArgument(f"project {project!r} has no metric named {metric!r}")
    query = GroupQuery(
        project=project, grouped=False, metric_value=metric_value, statuses=statuses, where=where
    )
    selection = _select(index, query, _checked_filters(index, query))
    column = index.metrics[metric]
    values = column.values(metric_value)
    rows = np.array(
        [r for r in selection.rows if column.present[r] and math.isfinite(values[r])], dtype=np.int64
    )
    y = values[rows]
    names = [
        name for name, column_values in index.hparams.items() if any(v is not None for v in column_values)
    ]
    encoded, categorical = [], []
    for name in names:
        column_values = [index.hparams[name][r] for r in rows]
        data, is_categorical = _encode(column_values)
        encoded.append(data)
        categorical.append(is_categorical)
    fitted = model.forest_importance(encoded, categorical, y) if rows.size else None
    report = []
    for i, name in enumerate(names):
        present = sum(1 for r in rows if index.hparams[name][r] is not None)
        correlation = None if categorical[i] else model.spearman(encoded[i], y)
        weight = float(fitted.importances[i]) if fitted is not None else 0.0
        report.append(HParamImportance(name, correlation, weight, present))
    report.sort(key=lambda h: (-h.importance, -abs(h.correlation or 0.0), h.name))
    return ImportanceReport(
        metric=metric,
        hparams=tuple(report),
        run_count=int(rows.size),
        model_r2=float(fitted.oob_r2) if fitted is not None else math.nan,
    )


def _encode(values: Sequence[HParamValue | None]) -> tuple[np.ndarray, bool]:
    """A column for the model: numbers and bools as floats (NaN missing), anything else as
    category codes (-1 missing)."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present) or all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in present
    ):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64), False
    categories = {key: i for i, key in enumerate(sorted({repr(v) for v in present}))}
    return np.array([-1 if v is None else categories[repr(v)] for v in values], dtype=np.int64), True

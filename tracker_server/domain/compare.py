"""Comparing runs: the experiment schema, HParams session groups, best combinations, importance.

The session-groups pipeline reads only what the request needs: the project's runs, the columns it
filters and sorts by, and, for the page it returns, every hyperparameter and metric of those runs.
Hyperparameter filters apply to each run; runs with identical hyperparameters (the same group key)
then form groups whose metric values are aggregated, filtered and sorted with numpy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
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
from tracker_server.domain.model import HParamValue
from tracker_server.domain.validation import check_name, page_size
from tracker_server.domain.where import Condition, parse_where
from tracker_server.store import compare as store
from tracker_server.store import runs as run_store
from tracker_server.store.engine import Database

RUN_STATUSES = ("running", "finished", "failed", "killed")
MAX_DISTINCT_VALUES = 1000
MAX_REGEX_LENGTH = 256


def _project_id(conn: Connection, project: str) -> int:
    check_name("project", project)
    project_id = run_store.project_id(conn, project)
    if project_id is None:
        raise NotFound(f"project {project!r} does not exist")
    return project_id


def _check_choice(field: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise InvalidArgument(f"{field} must be one of {', '.join(choices)}, got {value!r}")


# -- experiment schema ---------------------------------------------------------------------------


def experiment(db: Database, project: str, *, metric_value: MetricValue = "last") -> Experiment:
    """Every hyperparameter with its type, domain and whether it differs; every metric with how
    many runs have it. A hyperparameter missing from some runs is listed all the same."""
    _check_choice("metric_value", metric_value, METRIC_VALUES)
    with db.read() as conn:
        return _experiment(conn, _project_id(conn, project), project, metric_value)


def _experiment(conn: Connection, project_id: int, project: str, metric_value: MetricValue) -> Experiment:
    run_count = len(store.runs(conn, project_id))
    stats: dict[str, list[store.HParamStats]] = {}
    for row in store.hparam_stats(conn, project_id):
        stats.setdefault(row.name, []).append(row)
    types = {name: _value_type({r.kind for r in rows}) for name, rows in stats.items()}
    listed = store.distinct_values(
        conn, project_id, [n for n, t in types.items() if t != "number"], limit=MAX_DISTINCT_VALUES
    )
    hparams = []
    for name, rows in stats.items():
        runs = sum(r.runs for r in rows)
        distinct = sum(r.distinct for r in rows)
        domain: Interval | tuple[HParamValue, ...]
        truncated = False
        if types[name] == "number":
            lows = [r.number_min for r in rows if r.number_min is not None]
            highs = [r.number_max for r in rows if r.number_max is not None]
            domain = Interval(min(lows) if lows else None, max(highs) if highs else None)
        else:
            values = listed.get(name, [])
            truncated = len(values) > MAX_DISTINCT_VALUES
            domain = tuple(sorted(values[:MAX_DISTINCT_VALUES], key=_value_order))
        hparams.append(
            HParamInfo(name, types[name], domain, truncated, distinct > 1 or runs < run_count, runs)
        )
    metrics = tuple(
        MetricInfo(
            m.tag,
            m.runs,
            Interval(m.finite_min, m.finite_max) if m.finite_min is not None else None,
        )
        for m in store.metric_stats(conn, project_id, metric_value)
    )
    return Experiment(project, run_count, tuple(hparams), metrics)


def _value_type(kinds: set[str]) -> ValueType:
    if kinds <= {"int", "float"}:
        return "number"
    if kinds == {"bool"}:
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
    """Equality as grouping sees it: numbers by value, bools only with bools, strings with strings."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return float(a) == float(b)


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


def session_groups(db: Database, query: GroupQuery) -> SessionGroups:
    """TensorBoard's ListSessionGroups: filter runs, group them, aggregate, sort, page."""
    _check_choice("metric_value", query.metric_value, METRIC_VALUES)
    _check_choice("aggregate", query.aggregate, AGGREGATES)
    for status in query.statuses:
        _check_choice("statuses", status, RUN_STATUSES)
    if query.offset < 0:
        raise InvalidArgument(f"offset must be >= 0, got {query.offset}")
    limit = page_size(query.page_size)
    with db.read() as conn:
        project_id = _project_id(conn, query.project)
        hparam_names, metric_tags = store.names(conn, project_id)
        filters = query.filters + resolve_where(query.where, hparam_names, metric_tags)
        for column in [f.column for f in filters] + [s.column for s in query.sort]:
            known = hparam_names if column.kind == "hparam" else metric_tags
            if column.name not in known:
                raise InvalidArgument(f"project {query.project!r} has no {column.kind} named {column.name!r}")
        if query.metrics is not None:
            for tag in query.metrics:
                if tag not in metric_tags:
                    raise InvalidArgument(f"project {query.project!r} has no metric named {tag!r}")
        for test in filters:
            _check_filter(test)
        selection = _select(conn, project_id, query, filters)
        order = _order(selection, query.sort)
        total = int(order.size)
        page = order[query.offset : query.offset + limit]
        groups = _describe(conn, project_id, query, selection, page)
        axes = _axes(_experiment(conn, project_id, query.project, query.metric_value), query.metrics)
    return SessionGroups(axes=axes, groups=groups, total=total)


class _Selection:
    """The filtered runs, their groups, and each group's values of the sort columns."""

    def __init__(
        self,
        runs: list[store.RunRow],
        group_of_run: np.ndarray,
        n_groups: int,
        hparams: dict[str, dict[str, HParamValue]],
        metrics: dict[str, GroupValues],
    ) -> None:
        self.runs = runs
        self.group_of_run = group_of_run
        self.n_groups = n_groups
        self.hparams = hparams
        self.metrics = metrics
        first = np.full(n_groups, -1)
        for i in range(len(runs) - 1, -1, -1):
            first[group_of_run[i]] = i
        self.first_run = first


def _select(conn: Connection, project_id: int, query: GroupQuery, filters: Sequence[Filter]) -> _Selection:
    runs = store.runs(conn, project_id, statuses=query.statuses)
    hparam_filters = [f for f in filters if f.column.kind == "hparam"]
    metric_filters = [f for f in filters if f.column.kind == "metric"]
    hparams = store.hparam_columns(
        conn,
        project_id,
        {f.column.name for f in hparam_filters}
        | {s.column.name for s in query.sort if s.column.kind == "hparam"},
    )
    for test in hparam_filters:
        column, pattern = hparams[test.column.name], _compile(test)
        runs = [
            r
            for r in runs
            if (test.include_missing if r.id not in column else _passes(test, column[r.id], pattern))
        ]
    keys: dict[str, int] = {}
    group_of_run = np.fromiter(
        (keys.setdefault(r.group_key if query.grouped else r.id, len(keys)) for r in runs),
        dtype=np.int64,
        count=len(runs),
    )
    n_groups = len(keys)
    tags = {f.column.name for f in metric_filters} | {
        s.column.name for s in query.sort if s.column.kind == "metric"
    }
    per_run = store.metric_columns(conn, project_id, tags, query.metric_value) if tags else {}
    metrics = {tag: _group_values(per_run.get(tag, {}), runs, group_of_run, n_groups, query) for tag in tags}
    keep = np.ones(n_groups, dtype=bool)
    for test in metric_filters:
        aggregated = metrics[test.column.name]
        keep &= np.where(aggregated.present, _metric_passes(test, aggregated.values), test.include_missing)
    if not keep.all():
        kept_runs = keep[group_of_run]
        runs = [r for r, k in zip(runs, kept_runs, strict=True) if k]
        renumber = np.cumsum(keep) - 1
        group_of_run = renumber[group_of_run[kept_runs]]
        metrics = {
            tag: GroupValues(values.values[keep], values.present[keep]) for tag, values in metrics.items()
        }
        n_groups = int(keep.sum())
    return _Selection(runs, group_of_run, n_groups, hparams, metrics)


def _group_values(
    values: Mapping[str, float],
    runs: Sequence[store.RunRow],
    group_of_run: np.ndarray,
    n_groups: int,
    query: GroupQuery,
) -> GroupValues:
    present = np.fromiter((r.id in values for r in runs), dtype=bool, count=len(runs))
    run_values = np.fromiter((values.get(r.id, 0.0) for r in runs), dtype=np.float64, count=len(runs))
    how = query.aggregate if query.grouped else "mean"
    return aggregate(run_values, present, group_of_run, n_groups, how)


def _metric_passes(test: Filter, values: np.ndarray) -> np.ndarray:
    if test.interval is not None:
        return np.fromiter((test.interval.contains(float(v)) for v in values), dtype=bool, count=values.size)
    if test.one_of is not None:
        return np.isin(values, [float(v) for v in test.one_of])
    if test.none_of is not None:
        return ~np.isin(values, [float(v) for v in test.none_of])
    return np.ones(values.size, dtype=bool)


def _order(selection: _Selection, sorts: Sequence[Sort]) -> np.ndarray:
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
            values = selection.hparams[sort.column.name]
            firsts = [selection.runs[i].id for i in selection.first_run]
            columns.append(
                mixed_sort_column(
                    [values.get(run_id) for run_id in firsts],
                    descending=sort.descending,
                    missing_first=sort.missing_first,
                )
            )
    return sort_order(columns, selection.n_groups)


def _describe(
    conn: Connection, project_id: int, query: GroupQuery, selection: _Selection, page: np.ndarray
) -> tuple[SessionGroup, ...]:
    """Every hyperparameter and the requested metrics of the groups on the page, with their runs."""
    members: dict[int, list[int]] = {int(g): [] for g in page}
    for i, g in enumerate(selection.group_of_run):
        if int(g) in members:
            members[int(g)].append(i)
    run_ids = [selection.runs[i].id for rows in members.values() for i in rows]
    hparams = store.all_hparams(conn, run_ids)
    values = store.metric_columns(conn, project_id, query.metrics, query.metric_value, run_ids=run_ids)
    how = query.aggregate if query.grouped else "mean"
    groups = []
    for g in page:
        rows = [selection.runs[i] for i in members[int(g)]]
        per_tag: dict[str, float] = {}
        for tag, by_run in values.items():
            present = np.array([r.id in by_run for r in rows])
            if present.any():
                run_values = np.array([by_run.get(r.id, 0.0) for r in rows])
                result = aggregate(run_values, present, np.zeros(len(rows), dtype=np.int64), 1, how)
                per_tag[tag] = float(result.values[0])
        groups.append(
            SessionGroup(
                key=rows[0].group_key if query.grouped else rows[0].id,
                hparams=hparams[rows[0].id],
                metrics=dict(sorted(per_tag.items())),
                runs=tuple(
                    SessionRun(
                        r.id,
                        r.name,
                        r.status,  # type: ignore[arg-type]
                        {tag: by_run[r.id] for tag, by_run in sorted(values.items()) if r.id in by_run},
                    )
                    for r in rows
                ),
            )
        )
    return tuple(groups)


def _axes(schema: Experiment, metrics: Iterable[str] | None) -> tuple[Axis, ...]:
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
    project: str,
    metric: str,
    *,
    metric_value: MetricValue = "last",
    where: str = "",
    statuses: tuple[Any, ...] = (),
) -> ImportanceReport:
    """Per hyperparameter: Spearman correlation with the metric and permutation importance in a
    random forest, over the runs (filtered by ``where``) with a finite value of the metric."""
    _check_choice("metric_value", metric_value, METRIC_VALUES)
    with db.read() as conn:
        project_id = _project_id(conn, project)
        hparam_names, metric_tags = store.names(conn, project_id)
        if metric not in metric_tags:
            raise InvalidArgument(f"project {project!r} has no metric named {metric!r}")
        query = GroupQuery(project=project, grouped=False, metric_value=metric_value, statuses=statuses)
        filters = resolve_where(where, hparam_names, metric_tags)
        selection = _select(conn, project_id, query, filters)
        y_by_run = store.metric_columns(conn, project_id, [metric], metric_value)[metric]
        runs = [r for r in selection.runs if r.id in y_by_run and math.isfinite(y_by_run[r.id])]
        names = sorted(hparam_names)
        columns = store.hparam_columns(conn, project_id, names)
    y = np.array([y_by_run[r.id] for r in runs], dtype=np.float64)
    encoded, categorical = [], []
    for name in names:
        values = [columns[name].get(r.id) for r in runs]
        column, is_categorical = _encode(values)
        encoded.append(column)
        categorical.append(is_categorical)
    fitted = model.forest_importance(encoded, categorical, y) if runs else None
    report = []
    for i, name in enumerate(names):
        present = sum(1 for r in runs if r.id in columns[name])
        correlation = None if categorical[i] else model.spearman(encoded[i], y)
        weight = float(fitted.importances[i]) if fitted is not None else 0.0
        report.append(HParamImportance(name, correlation, weight, present))
    report.sort(key=lambda h: (-h.importance, -abs(h.correlation or 0.0), h.name))
    return ImportanceReport(
        metric=metric,
        hparams=tuple(report),
        run_count=len(runs),
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

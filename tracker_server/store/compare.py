"""Reads behind the comparison queries: a project's runs, chosen hyperparameter and metric columns,
and the aggregates the experiment schema is inferred from.

Everything is keyed by project and pushed into SQL as joins on indexed columns; values come back
as plain Python dicts and lists that the domain turns into numpy columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, and_, case, distinct, func, select

from tracker_server.domain.model import HParamValue
from tracker_server.store.runs import by_codepoint
from tracker_server.store.schema import HParam, MetricSummary, Run, Series

MetricValue = Literal["last", "min", "max"]
_VALUE_COLUMN = {
    "last": MetricSummary.last_value,
    "min": MetricSummary.min_value,
    "max": MetricSummary.max_value,
}
_FINITE = 1.7976931348623157e308


def _finite(column: Any) -> Any:
    """``column`` when it holds a finite number, else NULL. The same on both databases: NaN sorts
    above every number (natively on PostgreSQL, as text on SQLite) and ±Inf lie outside."""
    return case((column.between(-_FINITE, _FINITE), column), else_=None)


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    name: str
    status: str
    created_at: dt.datetime
    group_key: str


def runs(conn: Connection, project_id: int, *, statuses: Sequence[str] = ()) -> list[RunRow]:
    """The project's runs (optionally of some statuses only), oldest first."""
    query = (
        select(Run.id, Run.name, Run.status, Run.created_at, Run.group_key)
        .where(Run.project_id == project_id)
        .order_by(Run.created_at, Run.id)
    )
    if statuses:
        query = query.where(Run.status.in_(statuses))
    return [RunRow(*row) for row in conn.execute(query)]


def _value(row: Any) -> HParamValue:
    if row.kind == "bool":
        return bool(row.bool_value)
    if row.kind == "int":
        return int(row.int_value)
    if row.kind == "float":
        return float(row.number_value)
    return str(row.string_value)


def hparam_columns(
    conn: Connection, project_id: int, names: Iterable[str], *, run_ids: Sequence[str] | None = None
) -> dict[str, dict[str, HParamValue]]:
    """Values of the named hyperparameters, by name then run id (runs lacking one are absent)."""
    wanted = sorted(set(names))
    out: dict[str, dict[str, HParamValue]] = {name: {} for name in wanted}
    if not wanted:
        return out
    query = select(
        HParam.run_id,
        HParam.name,
        HParam.kind,
        HParam.number_value,
        HParam.int_value,
        HParam.string_value,
        HParam.bool_value,
    ).where(HParam.name.in_(wanted))
    if run_ids is not None:
        query = query.where(HParam.run_id.in_(run_ids))
    else:
        query = query.join(Run, Run.id == HParam.run_id).where(Run.project_id == project_id)
    for row in conn.execute(query):
        out[row.name][row.run_id] = _value(row)
    return out


def all_hparams(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, HParamValue]]:
    """Every hyperparameter of the given runs, by run id then name."""
    out: dict[str, dict[str, HParamValue]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return out
    query = select(
        HParam.run_id,
        HParam.name,
        HParam.kind,
        HParam.number_value,
        HParam.int_value,
        HParam.string_value,
        HParam.bool_value,
    ).where(HParam.run_id.in_(run_ids))
    for row in conn.execute(query.order_by(HParam.run_id, HParam.name)):
        out[row.run_id][row.name] = _value(row)
    return out


def metric_columns(
    conn: Connection,
    project_id: int,
    tags: Iterable[str] | None,
    which: MetricValue,
    *,
    run_ids: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Each run's value of the given scalar tags (every tag when ``tags`` is None), by tag then run.

    A run's value is the last point of its series, or its minimum or maximum (NaN-ignoring; NaN
    when every point is NaN). Runs without the tag are absent.
    """
    column = _VALUE_COLUMN[which]
    query = (
        select(Series.run_id, Series.tag, column)
        .join(MetricSummary, MetricSummary.series_id == Series.id)
        .where(Series.kind == "scalar")
    )
    wanted = None if tags is None else sorted(set(tags))
    if wanted is not None:
        if not wanted:
            return {}
        query = query.where(Series.tag.in_(wanted))
    if run_ids is not None:
        query = query.where(Series.run_id.in_(run_ids))
    else:
        query = query.join(Run, Run.id == Series.run_id).where(Run.project_id == project_id)
    out: dict[str, dict[str, float]] = {tag: {} for tag in wanted or ()}
    for run_id, tag, value in conn.execute(query):
        # min/max are NULL when every point is NaN; the run's value is then NaN, like its last point.
        out.setdefault(tag, {})[run_id] = float("nan") if value is None else float(value)
    return out


def names(conn: Connection, project_id: int) -> tuple[set[str], set[str]]:
    """The project's hyperparameter names and scalar tags."""
    hparams = conn.scalars(
        select(HParam.name).distinct().join(Run, Run.id == HParam.run_id).where(Run.project_id == project_id)
    )
    tags = conn.scalars(
        select(Series.tag)
        .distinct()
        .join(Run, Run.id == Series.run_id)
        .where(Run.project_id == project_id, Series.kind == "scalar")
    )
    return set(hparams), set(tags)


@dataclass(frozen=True, slots=True)
class HParamStats:
    name: str
    kind: str
    runs: int
    distinct: int
    number_min: float | None
    number_max: float | None


def hparam_stats(conn: Connection, project_id: int) -> list[HParamStats]:
    """Per (hyperparameter, value kind): runs having it, distinct values, finite numeric range."""
    value_key = case(
        (HParam.kind == "str", HParam.string_value),
        (HParam.kind == "bool", case((HParam.bool_value.is_(True), "true"), else_="false")),
        else_=func.cast(HParam.number_value, HParam.string_value.type),
    )
    query = (
        select(
            HParam.name,
            HParam.kind,
            func.count(),
            func.count(distinct(value_key)),
            func.min(_finite(HParam.number_value)),
            func.max(_finite(HParam.number_value)),
        )
        .join(Run, Run.id == HParam.run_id)
        .where(Run.project_id == project_id)
        .group_by(HParam.name, HParam.kind)
        .order_by(by_codepoint(conn, HParam.name), HParam.kind)
    )
    return [HParamStats(*row) for row in conn.execute(query)]


def distinct_values(
    conn: Connection, project_id: int, names_: Sequence[str], *, limit: int
) -> dict[str, list[HParamValue]]:
    """Up to ``limit`` + 1 distinct non-numeric values (strings, bools) per hyperparameter (the extra
    one tells the caller there are more)."""
    if not names_:
        return {}
    query = (
        select(
            HParam.name,
            HParam.kind,
            HParam.number_value,
            HParam.int_value,
            HParam.string_value,
            HParam.bool_value,
        )
        .distinct()
        .join(Run, Run.id == HParam.run_id)
        .where(Run.project_id == project_id, HParam.name.in_(names_), HParam.kind.in_(("str", "bool")))
    )
    out: dict[str, list[HParamValue]] = {}
    for row in conn.execute(query):
        values = out.setdefault(row.name, [])
        if len(values) <= limit:
            values.append(_value(row))
    return out


@dataclass(frozen=True, slots=True)
class MetricStats:
    tag: str
    runs: int
    finite_min: float | None
    finite_max: float | None


def metric_stats(conn: Connection, project_id: int, which: MetricValue) -> list[MetricStats]:
    """Per scalar tag: runs having it, and the finite range of the runs' values."""
    column = _VALUE_COLUMN[which]
    query = (
        select(Series.tag, func.count(), func.min(_finite(column)), func.max(_finite(column)))
        .join(MetricSummary, MetricSummary.series_id == Series.id)
        .join(Run, and_(Run.id == Series.run_id, Run.project_id == project_id))
        .where(Series.kind == "scalar")
        .group_by(Series.tag)
        .order_by(by_codepoint(conn, Series.tag))
    )
    return [MetricStats(*row) for row in conn.execute(query)]

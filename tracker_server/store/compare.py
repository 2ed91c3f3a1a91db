"""What the comparison index reads: a project's runs, their hyperparameters and their metric
summaries, in full or only what changed since a point in time (``updated_at`` columns)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from tracker_server.domain.model import HParamValue
from tracker_server.store.schema import HParam, MetricSummary, Run, Series


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    name: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    group_key: str


def runs(conn: Connection, project_id: int, *, since: dt.datetime | None = None) -> list[RunRow]:
    """The project's runs, or those changed (created, resumed, re-typed, finished) since ``since``."""
    query = select(Run.id, Run.name, Run.status, Run.created_at, Run.updated_at, Run.group_key).where(
        Run.project_id == project_id
    )
    if since is not None:
        query = query.where(Run.updated_at >= since)
    return [RunRow(*row) for row in conn.execute(query)]


def _value(row: Any) -> HParamValue:
    if row.kind == "bool":
        return bool(row.bool_value)
    if row.kind == "int":
        return int(row.int_value)
    if row.kind == "float":
        return float(row.number_value)
    return str(row.string_value)


def _batches(values: Sequence[Any], size: int = 5000) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def hparams(
    conn: Connection, project_id: int, run_ids: Sequence[str] | None = None
) -> dict[str, dict[str, HParamValue]]:
    """Hyperparameters by run id then name: of the whole project, or of the given runs."""
    columns = (
        HParam.run_id,
        HParam.name,
        HParam.kind,
        HParam.number_value,
        HParam.int_value,
        HParam.string_value,
        HParam.bool_value,
    )
    out: dict[str, dict[str, HParamValue]] = {}
    if run_ids is None:
        queries = [select(*columns).join(Run, Run.id == HParam.run_id).where(Run.project_id == project_id)]
    else:
        out = {run_id: {} for run_id in run_ids}
        queries = [select(*columns).where(HParam.run_id.in_(some)) for some in _batches(list(run_ids))]
    for query in queries:
        for row in conn.execute(query):
            out.setdefault(row.run_id, {})[row.name] = _value(row)
    return out


@dataclass(frozen=True, slots=True)
class SummaryRow:
    run_id: str
    tag: str
    last: float
    min: float | None
    max: float | None
    updated_at: dt.datetime


def summaries(
    conn: Connection,
    project_id: int,
    *,
    since: dt.datetime | None = None,
    run_ids: Sequence[str] | None = None,
) -> list[SummaryRow]:
    """Scalar metric summaries of the project's runs: all, those updated since ``since``, or all of
    the given runs."""
    query = (
        select(
            Series.run_id,
            Series.tag,
            MetricSummary.last_value,
            MetricSummary.min_value,
            MetricSummary.max_value,
            MetricSummary.updated_at,
        )
        .join(Series, Series.id == MetricSummary.series_id)
        .join(Run, Run.id == Series.run_id)
        .where(Run.project_id == project_id, Series.kind == "scalar")
    )
    if since is not None:
        query = query.where(MetricSummary.updated_at >= since)
    if run_ids is not None:
        return [
            SummaryRow(*row)
            for some in _batches(list(run_ids))
            for row in conn.execute(query.where(Series.run_id.in_(some)))
        ]
    return [SummaryRow(*row) for row in conn.execute(query)]

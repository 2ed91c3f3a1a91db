"""Raw reads: a run's series with their summaries, a series' chunks, a series' histograms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from tracker_server.domain.model import SeriesKind
from tracker_server.store.runs import by_codepoint
from tracker_server.store.schema import HistogramRow, MetricSummary, ScalarChunk, Series


def series_id(conn: Connection, run_id: str, kind: SeriesKind, tag: str) -> int | None:
    return conn.scalar(
        select(Series.id).where(Series.run_id == run_id, Series.kind == kind, Series.tag == tag)
    )


def list_series(conn: Connection, run_id: str, *, offset: int, limit: int) -> list[Any]:
    """The run's series, scalars first then by tag, each with its summary (scalars) or its
    histogram count (histograms)."""
    histogram_count = (
        select(func.count(HistogramRow.id)).where(HistogramRow.series_id == Series.id).scalar_subquery()
    )
    query = (
        select(
            Series.kind,
            Series.tag,
            MetricSummary.count,
            MetricSummary.last_step,
            MetricSummary.last_value,
            MetricSummary.last_wall_time,
            MetricSummary.min_value,
            MetricSummary.max_value,
            MetricSummary.first_nonfinite_step,
            case((Series.kind == "histogram", histogram_count), else_=None).label("histogram_count"),
        )
        .outerjoin(MetricSummary, MetricSummary.series_id == Series.id)
        .where(Series.run_id == run_id)
        .order_by(case((Series.kind == "scalar", 0), else_=1), by_codepoint(conn, Series.tag))
        .offset(offset)
        .limit(limit)
    )
    return list(conn.execute(query))


def scalar_chunks(
    conn: Connection, series: int, *, start_step: int | None, end_step: int | None
) -> list[tuple[bytes, bytes, bytes]]:
    """The series' chunks in the order they were written, skipping chunks outside the step range."""
    query = (
        select(ScalarChunk.steps, ScalarChunk.wall_times, ScalarChunk.values)
        .where(ScalarChunk.series_id == series)
        .order_by(ScalarChunk.id)
    )
    if start_step is not None:
        query = query.where(ScalarChunk.max_step >= start_step)
    if end_step is not None:
        query = query.where(ScalarChunk.min_step <= end_step)
    rows = _fetch_binary(conn, query) if conn.dialect.name == "postgresql" else conn.execute(query)
    return [(bytes(s), bytes(w), bytes(v)) for s, w, v in rows]


def _fetch_binary(conn: Connection, query: Any) -> list[Any]:
    """Run ``query`` on PostgreSQL asking for binary results: in the default text format bytea
    travels hex-encoded (twice the bytes, then a decode), which dominates reading a long series."""
    compiled = query.compile(dialect=conn.dialect)
    with conn.connection.driver_connection.cursor(binary=True) as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())


def histograms(conn: Connection, series: int, *, start_step: int | None, end_step: int | None) -> list[Any]:
    query = (
        select(HistogramRow.__table__)
        .where(HistogramRow.series_id == series)
        .order_by(HistogramRow.step, HistogramRow.id)
    )
    if start_step is not None:
        query = query.where(HistogramRow.step >= start_step)
    if end_step is not None:
        query = query.where(HistogramRow.step <= end_step)
    return list(conn.execute(query))

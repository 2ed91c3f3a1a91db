"""Reads: a run's series with their summaries, scalar chunks (points or digests), histograms."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.exc import DBAPIError

from tracker_server.domain.model import SeriesKind
from tracker_server.store.runs import by_codepoint
from tracker_server.store.schema import HistogramRow, MetricSummary, PrCurveRow, ScalarChunk, Series, TextRow


def series_id(conn: Connection, run_id: str, kind: SeriesKind, tag: str) -> int | None:
    return conn.scalar(
        select(Series.id).where(Series.run_id == run_id, Series.kind == kind, Series.tag == tag)
    )


_ENTRY_TABLES: dict[str, Any] = {"histogram": HistogramRow, "pr_curve": PrCurveRow, "text": TextRow}


def list_series(conn: Connection, run_id: str, *, offset: int, limit: int) -> list[Any]:
    """The run's series, scalars first then the other kinds, each by tag, with the scalar summary
    or, for the other kinds, how many entries the series holds (``entries``)."""
    entries = case(
        *(
            (
                Series.kind == kind,
                select(func.count(table.id)).where(table.series_id == Series.id).scalar_subquery(),
            )
            for kind, table in _ENTRY_TABLES.items()
        ),
        else_=None,
    ).label("entries")
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
            entries,
        )
        .outerjoin(MetricSummary, MetricSummary.series_id == Series.id)
        .where(Series.run_id == run_id)
        .order_by(
            case(
                (Series.kind == "scalar", 0),
                (Series.kind == "histogram", 1),
                (Series.kind == "pr_curve", 2),
                else_=3,
            ),
            by_codepoint(conn, Series.tag),
        )
        .offset(offset)
        .limit(limit)
    )
    return list(conn.execute(query))


def entries(
    conn: Connection, kind: str, series: int, *, start_step: int | None, end_step: int | None
) -> list[Any]:
    """The histograms, PR curves or texts of a series ordered by step (equal steps in logged order)."""
    table = _ENTRY_TABLES[kind]
    query = select(table.__table__).where(table.series_id == series).order_by(table.step, table.id)
    if start_step is not None:
        query = query.where(table.step >= start_step)
    if end_step is not None:
        query = query.where(table.step <= end_step)
    return list(conn.execute(query))


def scalar_series_ids(
    conn: Connection, run_ids: Sequence[str], tags: Sequence[str]
) -> dict[tuple[str, str], int]:
    """The scalar series of every (run, tag) pair that exists."""
    out: dict[tuple[str, str], int] = {}
    for some_runs in _batches(sorted(set(run_ids))):
        query = select(Series.run_id, Series.tag, Series.id).where(
            Series.run_id.in_(some_runs), Series.kind == "scalar", Series.tag.in_(sorted(set(tags)))
        )
        out.update({(run_id, tag): series for run_id, tag, series in conn.execute(query)})
    return out


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    series_id: int
    id: int
    n: int
    min_step: int
    max_step: int
    sorted: bool


def chunk_index(
    conn: Connection, series_ids: Iterable[int], *, start_step: int | None, end_step: int | None
) -> list[ChunkInfo]:
    """The chunks of the series that overlap [start_step, end_step], by series then write order."""
    out: list[ChunkInfo] = []
    for some in _batches(sorted(set(series_ids))):
        query = select(
            ScalarChunk.series_id,
            ScalarChunk.id,
            ScalarChunk.n,
            ScalarChunk.min_step,
            ScalarChunk.max_step,
            ScalarChunk.sorted,
        ).where(ScalarChunk.series_id.in_(some))
        if start_step is not None:
            query = query.where(ScalarChunk.max_step >= start_step)
        if end_step is not None:
            query = query.where(ScalarChunk.min_step <= end_step)
        out += [
            ChunkInfo(*row) for row in conn.execute(query.order_by(ScalarChunk.series_id, ScalarChunk.id))
        ]
    return out


def chunk_points(conn: Connection, chunk_ids: Sequence[int]) -> dict[int, tuple[bytes, bytes, bytes]]:
    """The little-endian arrays (steps, wall times, values) of the given chunks, by chunk id."""
    out: dict[int, tuple[bytes, bytes, bytes]] = {}
    for some in _batches(chunk_ids):
        query = select(ScalarChunk.id, ScalarChunk.steps, ScalarChunk.wall_times, ScalarChunk.values).where(
            ScalarChunk.id.in_(some)
        )
        rows = _fetch_binary(conn, query) if conn.dialect.name == "postgresql" else conn.execute(query)
        out.update({chunk: (bytes(s), bytes(w), bytes(v)) for chunk, s, w, v in rows})
    return out


def chunk_digests(conn: Connection, chunk_ids: Sequence[int]) -> dict[int, bytes]:
    """The block digests of the given chunks, by chunk id."""
    out: dict[int, bytes] = {}
    for some in _batches(chunk_ids):
        query = select(ScalarChunk.id, ScalarChunk.digest).where(ScalarChunk.id.in_(some))
        rows = _fetch_binary(conn, query) if conn.dialect.name == "postgresql" else conn.execute(query)
        out.update({chunk: bytes(digest) for chunk, digest in rows})
    return out


def _batches(values: Sequence[Any], size: int = 5000) -> Iterator[Sequence[Any]]:
    """Keep IN lists to a size every database takes."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fetch_binary(conn: Connection, query: Any) -> list[Any]:
    """Run ``query`` on PostgreSQL asking for binary results: in the default text format bytea
    travels hex-encoded (twice the bytes, then a decode), which dominates reading a long series.

    The driver's cursor is used directly, so its errors are wrapped here as SQLAlchemy's would be
    (and a lost connection invalidated): callers see one kind of database error whatever the path.
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    statement = str(compiled)
    try:
        with conn.connection.driver_connection.cursor(binary=True) as cursor:  # type: ignore[union-attr]
            cursor.execute(statement, compiled.params)
            return list(cursor.fetchall())
    except conn.dialect.loaded_dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            statement,
            None,
            exc,
            conn.dialect.loaded_dbapi.Error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=conn.dialect,
        ) from exc

"""Writing a batch: the exactly-once ledger, series, chunks, summaries and histograms.

Every function runs inside the caller's write transaction; ``domain.ingest`` calls them in order
and the transaction commits the data and the cursor together, or neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from tracker_server.domain.model import Histogram, PrCurve, ScalarSummary, SeriesKind, Text
from tracker_server.store.runs import insert_ignore
from tracker_server.store.schema import (
    HistogramRow,
    IngestCursor,
    MetricSummary,
    PrCurveRow,
    ScalarChunk,
    Series,
    TextRow,
)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming ``seq`` for a writer: apply it, or it was committed before, or a gap."""

    applied: bool
    last_seq: int


def claim_batch(
    conn: Connection, *, run_id: str, writer_id: str, seq: int, position: int, now: dt.datetime
) -> Claim:
    """Advance the writer's cursor from ``seq - 1`` to ``seq``, holding its row lock until commit.

    Concurrent deliveries of one batch (a retry racing the original) serialise on the cursor row:
    the second sees the advanced cursor and reports the batch as already applied.
    """
    advanced = conn.execute(
        update(IngestCursor)
        .where(
            IngestCursor.run_id == run_id,
            IngestCursor.writer_id == writer_id,
            IngestCursor.last_seq == seq - 1,
        )
        .values(last_seq=seq, position=position, updated_at=now)
    )
    if advanced.rowcount:
        return Claim(applied=True, last_seq=seq)
    if seq == 1:
        inserted = conn.execute(
            insert_ignore(conn, IngestCursor)
            .values(run_id=run_id, writer_id=writer_id, last_seq=1, position=position, updated_at=now)
            .on_conflict_do_nothing()
            .returning(IngestCursor.last_seq)
        )
        if inserted.first() is not None:
            return Claim(applied=True, last_seq=1)
    last = conn.scalar(
        select(IngestCursor.last_seq).where(
            IngestCursor.run_id == run_id, IngestCursor.writer_id == writer_id
        )
    )
    return Claim(applied=False, last_seq=int(last or 0))


def cursor(conn: Connection, run_id: str, writer_id: str) -> tuple[int, int]:
    """(last seq, position) of a writer; (0, 0) when it never committed."""
    row = conn.execute(
        select(IngestCursor.last_seq, IngestCursor.position).where(
            IngestCursor.run_id == run_id, IngestCursor.writer_id == writer_id
        )
    ).one_or_none()
    return (int(row.last_seq), int(row.position)) if row is not None else (0, 0)


def lock_series(conn: Connection, run_id: str, kind: SeriesKind, tags: Iterable[str]) -> dict[str, int]:
    """Ids of the run's series for ``tags``, creating missing ones; the rows stay locked until commit
    so concurrent writers to one series update its summary one after the other."""
    wanted = sorted(set(tags))
    if not wanted:
        return {}

    def select_locked(names: Sequence[str]) -> dict[str, int]:
        query = (
            select(Series.tag, Series.id)
            .where(Series.run_id == run_id, Series.kind == kind, Series.tag.in_(names))
            .order_by(Series.id)
            .with_for_update()
        )
        return {tag: series_id for tag, series_id in conn.execute(query)}

    ids = select_locked(wanted)
    missing = [tag for tag in wanted if tag not in ids]
    if missing:
        conn.execute(
            insert_ignore(conn, Series).on_conflict_do_nothing(),
            [{"run_id": run_id, "kind": kind, "tag": tag} for tag in missing],
        )
        ids.update(select_locked(missing))
    return ids


@dataclass(frozen=True, slots=True)
class ChunkRow:
    """A scalar chunk as stored: ``id`` is None until inserted."""

    id: int | None
    series_id: int
    n: int
    min_step: int
    max_step: int
    sorted: bool
    digest: bytes
    steps: bytes
    wall_times: bytes
    values: bytes

    def columns(self) -> dict[str, Any]:
        return {
            "series_id": self.series_id,
            "n": self.n,
            "min_step": self.min_step,
            "max_step": self.max_step,
            "sorted": self.sorted,
            "digest": self.digest,
            "steps": self.steps,
            "wall_times": self.wall_times,
            "values": self.values,
        }


def open_chunks(conn: Connection, series_ids: Sequence[int], *, below: int) -> dict[int, ChunkRow]:
    """The newest chunk of each series that holds fewer than ``below`` points, by series id."""
    if not series_ids:
        return {}
    newest = (
        select(func.max(ScalarChunk.id))
        .where(ScalarChunk.series_id.in_(series_ids))
        .group_by(ScalarChunk.series_id)
        .scalar_subquery()
    )
    table = ScalarChunk.__table__
    rows = conn.execute(select(table).where(ScalarChunk.id.in_(newest), ScalarChunk.n < below))
    return {
        row.series_id: ChunkRow(
            row.id,
            row.series_id,
            row.n,
            row.min_step,
            row.max_step,
            row.sorted,
            bytes(row.digest),
            bytes(row.steps),
            bytes(row.wall_times),
            bytes(row.values),
        )
        for row in rows
    }


def update_chunk(conn: Connection, chunk: ChunkRow) -> None:
    conn.execute(update(ScalarChunk).where(ScalarChunk.id == chunk.id).values(**chunk.columns()))


def insert_chunks(conn: Connection, chunks: Sequence[ChunkRow]) -> None:
    if chunks:
        conn.execute(insert(ScalarChunk), [chunk.columns() for chunk in chunks])


_SUMMARY_FIELDS = (
    "count",
    "last_step",
    "last_value",
    "last_wall_time",
    "min_value",
    "max_value",
    "first_nonfinite_step",
)


def summaries(conn: Connection, series_ids: Iterable[int]) -> dict[int, ScalarSummary]:
    ids = list(series_ids)
    if not ids:
        return {}
    rows = conn.execute(select(MetricSummary.__table__).where(MetricSummary.series_id.in_(ids)))
    return {row.series_id: _summary(row) for row in rows}


def _summary(row: Any) -> ScalarSummary:
    return ScalarSummary(**{field: getattr(row, field) for field in _SUMMARY_FIELDS})


def save_summaries(conn: Connection, merged: dict[int, ScalarSummary], *, now: dt.datetime) -> None:
    """Write the merged summaries, stamped ``now`` so comparison indexes can fetch what changed."""
    if not merged:
        return
    stmt = insert_ignore(conn, MetricSummary)
    stmt = stmt.on_conflict_do_update(
        index_elements=[MetricSummary.series_id],
        set_={field: stmt.excluded[field] for field in (*_SUMMARY_FIELDS, "updated_at")},
    )
    conn.execute(
        stmt,
        [
            {"series_id": series_id, "updated_at": now, **{f: getattr(s, f) for f in _SUMMARY_FIELDS}}
            for series_id, s in merged.items()
        ],
    )


def insert_histograms(
    conn: Connection, series_ids: dict[str, int], histograms: Sequence[tuple[str, Sequence[Histogram]]]
) -> None:
    rows = [
        {
            "series_id": series_ids[tag],
            "step": h.step,
            "wall_time": h.wall_time,
            "count": h.count,
            "min": h.min,
            "max": h.max,
            "sum": h.sum,
            "sum_squares": h.sum_squares,
            "nan_count": h.nan_count,
            "bucket_limits": h.bucket_limits.astype("<f8").tobytes(),
            "bucket_counts": h.bucket_counts.astype("<f8").tobytes(),
        }
        for tag, items in histograms
        for h in items
    ]
    if rows:
        conn.execute(insert(HistogramRow), rows)


def insert_pr_curves(
    conn: Connection, series_ids: dict[str, int], curves: Sequence[tuple[str, Sequence[PrCurve]]]
) -> None:
    rows = [
        {
            "series_id": series_ids[tag],
            "step": c.step,
            "wall_time": c.wall_time,
            "num_thresholds": c.num_thresholds,
            "data": c.data.astype("<f8").tobytes(),
        }
        for tag, items in curves
        for c in items
    ]
    if rows:
        conn.execute(insert(PrCurveRow), rows)


def insert_texts(
    conn: Connection, series_ids: dict[str, int], texts: Sequence[tuple[str, Sequence[Text]]]
) -> None:
    rows = [
        {"series_id": series_ids[tag], "step": t.step, "wall_time": t.wall_time, "text": t.text}
        for tag, items in texts
        for t in items
    ]
    if rows:
        conn.execute(insert(TextRow), rows)


def scalar_series_of_run(conn: Connection, run_id: str) -> list[int]:
    return list(conn.scalars(select(Series.id).where(Series.run_id == run_id, Series.kind == "scalar")))


def chunks_of(conn: Connection, series_id: int, *, reaching: int | None = None) -> list[ChunkRow]:
    """The chunks of a series in write order; with ``reaching``, only those holding a step >= it."""
    query = select(ScalarChunk.__table__).where(ScalarChunk.series_id == series_id).order_by(ScalarChunk.id)
    if reaching is not None:
        query = query.where(ScalarChunk.max_step >= reaching)
    return [
        ChunkRow(
            r.id,
            r.series_id,
            r.n,
            r.min_step,
            r.max_step,
            r.sorted,
            bytes(r.digest),
            bytes(r.steps),
            bytes(r.wall_times),
            bytes(r.values),
        )
        for r in conn.execute(query)
    ]


def delete_chunks(conn: Connection, chunk_ids: Sequence[int]) -> None:
    if chunk_ids:
        conn.execute(delete(ScalarChunk).where(ScalarChunk.id.in_(chunk_ids)))


def delete_summary(conn: Connection, series_id: int) -> None:
    conn.execute(delete(MetricSummary).where(MetricSummary.series_id == series_id))


def delete_entries_from(conn: Connection, run_id: str, from_step: int) -> int:
    """Delete the run's histograms, PR curves and texts at or after ``from_step``; how many."""
    removed = 0
    for table in (HistogramRow, PrCurveRow, TextRow):
        in_run = select(Series.id).where(Series.run_id == run_id).scalar_subquery()
        result = conn.execute(delete(table).where(table.series_id.in_(in_run), table.step >= from_step))
        removed += max(result.rowcount, 0)
    return removed

"""Writing a batch: the exactly-once ledger, series, chunks, summaries and histograms.

Every function runs inside the caller's write transaction; ``domain.ingest`` calls them in order
and the transaction commits the data and the cursor together, or neither.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from tracker_server.domain.model import Histogram, ScalarColumn, ScalarSummary, SeriesKind
from tracker_server.store.runs import insert_ignore
from tracker_server.store.schema import HistogramRow, IngestCursor, MetricSummary, ScalarChunk, Series


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming ``seq`` for a writer: apply it, or it was committed before, or a gap."""

    applied: bool
    last_seq: int


def claim_batch(conn: Connection, *, run_id: str, writer_id: str, seq: int, now: dt.datetime) -> Claim:
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
        .values(last_seq=seq, updated_at=now)
    )
    if advanced.rowcount:
        return Claim(applied=True, last_seq=seq)
    if seq == 1:
        inserted = conn.execute(
            insert_ignore(conn, IngestCursor)
            .values(run_id=run_id, writer_id=writer_id, last_seq=1, updated_at=now)
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
class OpenChunk:
    """The newest chunk of a series, small enough to be extended by the next small write."""

    id: int
    n: int
    min_step: int
    max_step: int
    steps: bytes
    wall_times: bytes
    values: bytes


def open_chunks(conn: Connection, series_ids: Sequence[int], *, below: int) -> dict[int, OpenChunk]:
    """The newest chunk of each series that holds fewer than ``below`` points, by series id."""
    if not series_ids:
        return {}
    newest = (
        select(func.max(ScalarChunk.id))
        .where(ScalarChunk.series_id.in_(series_ids))
        .group_by(ScalarChunk.series_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            ScalarChunk.series_id,
            ScalarChunk.id,
            ScalarChunk.n,
            ScalarChunk.min_step,
            ScalarChunk.max_step,
            ScalarChunk.steps,
            ScalarChunk.wall_times,
            ScalarChunk.values,
        ).where(ScalarChunk.id.in_(newest), ScalarChunk.n < below)
    )
    return {
        row.series_id: OpenChunk(
            row.id,
            row.n,
            row.min_step,
            row.max_step,
            bytes(row.steps),
            bytes(row.wall_times),
            bytes(row.values),
        )
        for row in rows
    }


def extend_chunk(conn: Connection, chunk: OpenChunk, column: ScalarColumn) -> OpenChunk:
    """Append ``column``'s points to ``chunk`` (after its own: logged order is kept)."""
    extended = OpenChunk(
        id=chunk.id,
        n=chunk.n + int(column.steps.size),
        min_step=min(chunk.min_step, int(column.steps.min())),
        max_step=max(chunk.max_step, int(column.steps.max())),
        steps=chunk.steps + column.steps_bytes,
        wall_times=chunk.wall_times + column.wall_times_bytes,
        values=chunk.values + column.values_bytes,
    )
    conn.execute(
        update(ScalarChunk)
        .where(ScalarChunk.id == chunk.id)
        .values(
            n=extended.n,
            min_step=extended.min_step,
            max_step=extended.max_step,
            steps=extended.steps,
            wall_times=extended.wall_times,
            values=extended.values,
        )
    )
    return extended


def insert_chunks(conn: Connection, series_ids: dict[str, int], columns: Sequence[ScalarColumn]) -> None:
    """One chunk row per column, holding the wire's little-endian bytes unchanged."""
    if not columns:
        return
    conn.execute(
        insert(ScalarChunk),
        [
            {
                "series_id": series_ids[c.tag],
                "n": int(c.steps.size),
                "min_step": int(c.steps.min()),
                "max_step": int(c.steps.max()),
                "steps": c.steps_bytes,
                "wall_times": c.wall_times_bytes,
                "values": c.values_bytes,
            }
            for c in columns
        ],
    )


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


def save_summaries(conn: Connection, merged: dict[int, ScalarSummary]) -> None:
    if not merged:
        return
    stmt = insert_ignore(conn, MetricSummary)
    stmt = stmt.on_conflict_do_update(
        index_elements=[MetricSummary.series_id],
        set_={field: stmt.excluded[field] for field in _SUMMARY_FIELDS},
    )
    conn.execute(
        stmt,
        [
            {"series_id": series_id, **{f: getattr(s, f) for f in _SUMMARY_FIELDS}}
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

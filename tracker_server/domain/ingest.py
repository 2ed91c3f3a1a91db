"""Ingest: validate a whole batch, then apply it exactly once in one transaction.

Nothing is written unless every part of the batch is valid. The batch's data, the series
summaries and the writer's cursor commit together, so a batch acknowledged after commit is
durable, and a batch delivered again (a retry after a lost ack) is recognised and not applied twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection

from tracker_client.histogram import histogram_problem
from tracker_server.domain import limits
from tracker_server.domain.downsample import chunk_digest
from tracker_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from tracker_server.domain.model import Histogram, PrCurve, ScalarColumn, Text, WriteBatch, WriteResult
from tracker_server.domain.summaries import merge, summarize
from tracker_server.domain.validation import check_name, check_run_id
from tracker_server.store import ingest as store
from tracker_server.store import runs as run_store
from tracker_server.store.engine import Database

# Small writes extend their series' newest chunk up to this many points (24 KiB of arrays).
CHUNK_POINTS = 1024

# Largest seq / position a cursor column (signed BIGINT) holds.
MAX_CURSOR = 2**63 - 1


def check_size(*, columns: int, points: int) -> None:
    """The batch-size limits, also checked by the transport before it decodes a batch."""
    if columns > limits.MAX_COLUMNS_PER_BATCH:
        raise InvalidArgument(f"batch has {columns} columns; the limit is {limits.MAX_COLUMNS_PER_BATCH}")
    if points > limits.MAX_POINTS_PER_BATCH:
        raise InvalidArgument(
            f"batch has {points} points; the limit is {limits.MAX_POINTS_PER_BATCH} (split it)"
        )


def validate(batch: WriteBatch) -> None:
    """Raise InvalidArgument naming the first problem found anywhere in the batch."""
    check_run_id(batch.run_id)
    if not batch.writer_id or len(batch.writer_id) > limits.MAX_WRITER_ID_LENGTH:
        raise InvalidArgument(f"writer_id must be 1-{limits.MAX_WRITER_ID_LENGTH} characters")
    check_name("writer_id", batch.writer_id)
    if batch.seq < 1:
        raise InvalidArgument("seq must be >= 1 (a writer numbers its batches 1, 2, 3, ...)")
    if batch.seq > MAX_CURSOR or batch.position > MAX_CURSOR:
        # The wire types are uint64; the columns are signed BIGINT, as both databases store them.
        raise InvalidArgument(f"seq and position must be at most {MAX_CURSOR} (2**63 - 1)")
    check_size(
        columns=len(batch.scalars) + len(batch.histograms) + len(batch.pr_curves) + len(batch.texts),
        points=batch.points,
    )
    for i, column in enumerate(batch.scalars):
        _check_scalars(f"scalars[{i}]", column)
    for i, (tag, histograms) in enumerate(batch.histograms):
        check_name(f"histograms[{i}].tag", tag)
        if not histograms:
            raise InvalidArgument(f"histograms[{i}] (tag {tag!r}) has no histograms")
        for j, histogram in enumerate(histograms):
            _check_histogram(f"histograms[{i}].histograms[{j}] (tag {tag!r})", histogram)
    for i, (tag, curves) in enumerate(batch.pr_curves):
        check_name(f"pr_curves[{i}].tag", tag)
        if not curves:
            raise InvalidArgument(f"pr_curves[{i}] (tag {tag!r}) has no curves")
        for j, curve in enumerate(curves):
            _check_pr_curve(f"pr_curves[{i}].curves[{j}] (tag {tag!r})", curve)
    for i, (tag, texts) in enumerate(batch.texts):
        check_name(f"texts[{i}].tag", tag)
        if not texts:
            raise InvalidArgument(f"texts[{i}] (tag {tag!r}) has no texts")
        for j, text in enumerate(texts):
            _check_text(f"texts[{i}].texts[{j}] (tag {tag!r})", text)


def _check_point(where: str, step: int, wall_time: float) -> None:
    if step < 0:
        raise InvalidArgument(f"{where}.step must be >= 0, got {step}")
    if not np.isfinite(wall_time):
        raise InvalidArgument(f"{where}.wall_time must be finite")


def _check_pr_curve(where: str, curve: PrCurve) -> None:
    _check_point(where, curve.step, curve.wall_time)
    n = curve.num_thresholds
    if not 1 <= n <= limits.MAX_PR_THRESHOLDS:
        raise InvalidArgument(f"{where}.num_thresholds must be 1-{limits.MAX_PR_THRESHOLDS}, got {n}")
    if curve.data.size != 6 * n:
        raise InvalidArgument(
            f"{where}.values must hold 6 rows of num_thresholds = {n} values ({6 * n}), got {curve.data.size}"
        )
    if np.isinf(curve.data).any():
        raise InvalidArgument(f"{where}.values must not be infinite")


def _check_text(where: str, text: Text) -> None:
    _check_point(where, text.step, text.wall_time)
    if len(text.text) > limits.MAX_TEXT_LENGTH:
        raise InvalidArgument(
            f"{where}.text is {len(text.text)} characters long; the limit is {limits.MAX_TEXT_LENGTH}"
        )
    if "\x00" in text.text:
        raise InvalidArgument(f"{where}.text contains a NUL character")


def _check_scalars(where: str, column: ScalarColumn) -> None:
    check_name(f"{where}.tag", column.tag)
    where = f"{where} (tag {column.tag!r})"
    n = column.steps.size
    if n == 0:
        raise InvalidArgument(f"{where} has no points")
    if column.wall_times.size != n or column.values.size != n:
        raise InvalidArgument(
            f"{where}: steps, wall_times and values must have equal lengths, got "
            f"{n}, {column.wall_times.size} and {column.values.size}"
        )
    if int(column.steps.min()) < 0:
        raise InvalidArgument(f"{where}.steps: steps must be >= 0, got {int(column.steps.min())}")
    if not np.isfinite(column.wall_times).all():
        raise InvalidArgument(f"{where}.wall_times must be finite")


def _check_histogram(where: str, h: Histogram) -> None:
    _check_point(where, h.step, h.wall_time)
    if h.bucket_limits.size > limits.MAX_HISTOGRAM_BUCKETS:
        raise InvalidArgument(
            f"{where} has {h.bucket_limits.size} buckets; the limit is {limits.MAX_HISTOGRAM_BUCKETS}"
        )
    if (problem := histogram_problem(h)) is not None:
        raise InvalidArgument(f"{where}: {problem}")


def chunk_row(
    series_id: int, steps: bytes, wall_times: bytes, values: bytes, *, chunk_id: int | None = None
) -> store.ChunkRow:
    """A chunk of little-endian arrays, with its step range, whether it is in step order, and (when
    it is) the block digests that let a long series be downsampled without reading its points."""
    step_array = np.frombuffer(steps, dtype="<i8")
    ordered = bool((step_array[1:] >= step_array[:-1]).all())
    digest = (
        chunk_digest(step_array, np.frombuffer(wall_times, dtype="<f8"), np.frombuffer(values, dtype="<f8"))
        if ordered
        else b""
    )
    return store.ChunkRow(
        id=chunk_id,
        series_id=series_id,
        n=int(step_array.size),
        min_step=int(step_array.min()),
        max_step=int(step_array.max()),
        sorted=ordered,
        digest=digest,
        steps=steps,
        wall_times=wall_times,
        values=values,
    )


def _write_chunks(conn: Connection, series: dict[str, int], columns: Sequence[ScalarColumn]) -> None:
    """A large column becomes a chunk of its own; a small one extends its series' newest chunk while
    that stays within CHUNK_POINTS, so slow loggers do not make a row per point."""
    small = [series[c.tag] for c in columns if c.steps.size < CHUNK_POINTS]
    open_chunks = store.open_chunks(conn, small, below=CHUNK_POINTS)
    new = []
    for column in columns:
        series_id = series[column.tag]
        chunk = open_chunks.get(series_id)
        if chunk is not None and chunk.n + column.steps.size <= CHUNK_POINTS:
            extended = chunk_row(
                series_id,
                chunk.steps + column.steps_bytes,
                chunk.wall_times + column.wall_times_bytes,
                chunk.values + column.values_bytes,
                chunk_id=chunk.id,
            )
            store.update_chunk(conn, extended)
            open_chunks[series_id] = extended
        else:
            new.append(chunk_row(series_id, column.steps_bytes, column.wall_times_bytes, column.values_bytes))
    store.insert_chunks(conn, new)


def write_batch(db: Database, batch: WriteBatch) -> WriteResult:
    """Validate and apply ``batch`` exactly once; a batch seen before is reported as a duplicate."""
    validate(batch)
    # Computed before the transaction so the row locks are held only for the writes.
    column_summaries = [summarize(c.steps, c.wall_times, c.values) for c in batch.scalars]
    now = dt.datetime.now(dt.UTC)
    with db.write() as conn:
        status = run_store.run_status(conn, batch.run_id)
        if status is None:
            raise NotFound(f"run {batch.run_id!r} does not exist")
        if status != "running":
            raise FailedPrecondition(
                f"run {batch.run_id!r} is {status}; resume it (tracker.init with its project and name) "
                "before logging to it"
            )
        claim = store.claim_batch(
            conn,
            run_id=batch.run_id,
            writer_id=batch.writer_id,
            seq=batch.seq,
            position=batch.position,
            now=now,
        )
        if not claim.applied:
            if claim.last_seq >= batch.seq:
                return WriteResult(seq=batch.seq, duplicate=True)
            raise FailedPrecondition(
                f"writer {batch.writer_id!r} sent batch {batch.seq} but the last one committed is "
                f"{claim.last_seq}: batches must arrive in order, without gaps"
            )
        if batch.scalars:
            series = store.lock_series(conn, batch.run_id, "scalar", (c.tag for c in batch.scalars))
            _write_chunks(conn, series, batch.scalars)
            stored = store.summaries(conn, series.values())
            merged = {series_id: stored.get(series_id) for series_id in series.values()}
            for column, summary in zip(batch.scalars, column_summaries, strict=True):
                merged[series[column.tag]] = merge(merged[series[column.tag]], summary)
            store.save_summaries(conn, {k: v for k, v in merged.items() if v is not None}, now=now)
        if batch.histograms:
            series = store.lock_series(conn, batch.run_id, "histogram", (tag for tag, _ in batch.histograms))
            store.insert_histograms(conn, series, batch.histograms)
        if batch.pr_curves:
            series = store.lock_series(conn, batch.run_id, "pr_curve", (tag for tag, _ in batch.pr_curves))
            store.insert_pr_curves(conn, series, batch.pr_curves)
        if batch.texts:
            series = store.lock_series(conn, batch.run_id, "text", (tag for tag, _ in batch.texts))
            store.insert_texts(conn, series, batch.texts)
    return WriteResult(seq=batch.seq, duplicate=False)


def cursor(db: Database, run_id: str, writer_id: str) -> tuple[int, int]:
    """(last seq, position) of a writer of a run; (0, 0) when it never committed a batch."""
    check_run_id(run_id)
    check_name("writer_id", writer_id)
    with db.read() as conn:
        if run_store.run_status(conn, run_id) is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return store.cursor(conn, run_id, writer_id)


def purge_steps(db: Database, run_id: str, from_step: int) -> int:
    """Drop every scalar point, histogram, PR curve and text of the run at or after ``from_step``
    (TensorBoard's purge_step), keeping the summaries right; returns how many were removed."""
    check_run_id(run_id)
    if from_step < 0:
        raise InvalidArgument(f"from_step must be >= 0, got {from_step}")
    now = dt.datetime.now(dt.UTC)
    removed = 0
    with db.write() as conn:
        if run_store.run_status(conn, run_id) is None:
            raise NotFound(f"run {run_id!r} does not exist")
        for series_id in store.scalar_series_of_run(conn, run_id):
            reaching = store.chunks_of(conn, series_id, reaching=from_step)
            if not reaching:
                continue
            gone = []
            for chunk in reaching:
                steps = np.frombuffer(chunk.steps, dtype="<i8")
                keep = steps < from_step
                removed += int(steps.size - keep.sum())
                if not keep.any():
                    assert chunk.id is not None
                    gone.append(chunk.id)
                    continue
                walls = np.frombuffer(chunk.wall_times, dtype="<f8")[keep]
                values = np.frombuffer(chunk.values, dtype="<f8")[keep]
                store.update_chunk(
                    conn,
                    chunk_row(
                        series_id, steps[keep].tobytes(), walls.tobytes(), values.tobytes(), chunk_id=chunk.id
                    ),
                )
            store.delete_chunks(conn, gone)
            _resummarize(conn, series_id, now)
        removed += store.delete_entries_from(conn, run_id, from_step)
        run_store.touch(conn, run_id, now=now)
    return removed


def _resummarize(conn: Connection, series_id: int, now: dt.datetime) -> None:
    """Recompute a series' summary from the points it still holds (after a purge)."""
    chunks = store.chunks_of(conn, series_id)
    if not chunks:
        store.delete_summary(conn, series_id)
        return
    steps = np.frombuffer(b"".join(c.steps for c in chunks), dtype="<i8")
    walls = np.frombuffer(b"".join(c.wall_times for c in chunks), dtype="<f8")
    values = np.frombuffer(b"".join(c.values for c in chunks), dtype="<f8")
    store.save_summaries(conn, {series_id: summarize(steps, walls, values)}, now=now)

"""Raw reads of what a run logged: its tags, a scalar series in full, a tag's histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection

from tracker_server.domain.errors import InvalidArgument, NotFound
from tracker_server.domain.model import Histogram, Page, ScalarSeries, ScalarSummary, SeriesKind, TagInfo
from tracker_server.domain.paging import decode_token, encode_token
from tracker_server.domain.validation import check_name, check_run_id, page_size
from tracker_server.store import reads as store
from tracker_server.store import runs as run_store
from tracker_server.store.engine import Database


def _require_run(conn: Connection, run_id: str) -> None:
    check_run_id(run_id)
    if run_store.run_status(conn, run_id) is None:
        raise NotFound(f"run {run_id!r} does not exist")


def _series(conn: Connection, run_id: str, kind: SeriesKind, tag: str) -> int:
    """The id of the run's ``kind`` series ``tag``; NotFound naming what is missing."""
    check_name("tag", tag)
    _require_run(conn, run_id)
    series = store.series_id(conn, run_id, kind, tag)
    if series is None:
        raise NotFound(f"run {run_id!r} has no {kind} tag {tag!r}")
    return series


def _check_range(start_step: int | None, end_step: int | None) -> None:
    if start_step is not None and end_step is not None and start_step > end_step:
        raise InvalidArgument(f"start_step {start_step} is after end_step {end_step}")


def list_tags(db: Database, run_id: str, *, size: int, token: str) -> Page[TagInfo]:
    limit = page_size(size, default=1000, maximum=10_000)
    key = decode_token(token, 1)
    offset = key[0] if key else 0
    if type(offset) is not int or offset < 0:
        raise InvalidArgument("page_token is not a token this server issued (pass next_page_token unchanged)")
    with db.read() as conn:
        _require_run(conn, run_id)
        rows = store.list_series(conn, run_id, offset=offset, limit=limit + 1)
    tags = [_tag_info(row) for row in rows[:limit]]
    return Page(tags, encode_token(offset + limit) if len(rows) > limit else "")


def _tag_info(row: Any) -> TagInfo:
    kind = row.kind
    if kind == "scalar" and row.count is not None:
        summary = ScalarSummary(
            count=row.count,
            last_step=row.last_step,
            last_value=row.last_value,
            last_wall_time=row.last_wall_time,
            min_value=row.min_value,
            max_value=row.max_value,
            first_nonfinite_step=row.first_nonfinite_step,
        )
        return TagInfo(tag=row.tag, kind="scalar", count=summary.count, summary=summary)
    return TagInfo(tag=row.tag, kind=kind, count=int(row.histogram_count or 0), summary=None)


def read_scalars(
    db: Database, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
) -> ScalarSeries:
    """Every point of a scalar tag ordered by step; equal steps keep the order they were logged in."""
    _check_range(start_step, end_step)
    with db.read() as conn:
        series = _series(conn, run_id, "scalar", tag)
        chunks = store.scalar_chunks(conn, series, start_step=start_step, end_step=end_step)
    steps = np.frombuffer(b"".join(c[0] for c in chunks), dtype="<i8")
    walls = np.frombuffer(b"".join(c[1] for c in chunks), dtype="<f8")
    values = np.frombuffer(b"".join(c[2] for c in chunks), dtype="<f8")
    if start_step is not None or end_step is not None:
        keep = np.ones(steps.size, dtype=bool)
        if start_step is not None:
            keep &= steps >= start_step
        if end_step is not None:
            keep &= steps <= end_step
        steps, walls, values = steps[keep], walls[keep], values[keep]
    if steps.size > 1 and (np.diff(steps) < 0).any():
        order = np.argsort(steps, kind="stable")
        steps, walls, values = steps[order], walls[order], values[order]
    return ScalarSeries(steps=steps, wall_times=walls, values=values)


def read_histograms(
    db: Database, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
) -> list[Histogram]:
    """Every histogram of a tag ordered by step (equal steps in logged order)."""
    _check_range(start_step, end_step)
    with db.read() as conn:
        series = _series(conn, run_id, "histogram", tag)
        rows = store.histograms(conn, series, start_step=start_step, end_step=end_step)
    return [
        Histogram(
            step=r.step,
            wall_time=r.wall_time,
            count=r.count,
            min=r.min,
            max=r.max,
            sum=r.sum,
            sum_squares=r.sum_squares,
            nan_count=r.nan_count,
            bucket_limits=np.frombuffer(r.bucket_limits, dtype="<f8"),
            bucket_counts=np.frombuffer(r.bucket_counts, dtype="<f8"),
        )
        for r in rows
    ]

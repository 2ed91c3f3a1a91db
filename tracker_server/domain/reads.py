"""Raw reads of what a run logged: its tags, a scalar series in full, a tag's histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from tracker_server.domain.errors import InvalidArgument, NotFound
from tracker_server.domain.histograms import distributions, rebin
from tracker_server.domain.model import (
    Histogram,
    Page,
    PrCurve,
    ScalarSeries,
    ScalarSummary,
    SeriesKind,
    TagInfo,
    Text,
)
from tracker_server.domain.paging import decode_token, encode_token
from tracker_server.domain.series import Window, read_series
from tracker_server.domain.validation import check_name, check_run_id, page_size
from tracker_server.store import reads as store
from tracker_server.store import runs as run_store
from tracker_server.store.engine import Database

MAX_BINS = 10_000


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
    return TagInfo(tag=row.tag, kind=kind, count=int(row.entries or 0), summary=None)


def read_scalars(
    db: Database,
    run_id: str,
    tag: str,
    *,
    start_step: int | None = None,
    end_step: int | None = None,
    max_points: int = 0,
) -> ScalarSeries:
    """The points of a scalar tag ordered by step (equal steps in logged order): every point, or at
    most ``max_points`` of them chosen by ``domain.downsample``'s contract."""
    window = Window(start_step, end_step, max_points)
    window.check()
    with db.read() as conn:
        series = _series(conn, run_id, "scalar", tag)
        return read_series(conn, [series], window)[series]


def read_histograms(
    db: Database,
    run_id: str,
    tag: str,
    *,
    start_step: int | None = None,
    end_step: int | None = None,
    bins: int = 0,
) -> list[Histogram]:
    """Every histogram of a tag ordered by step (equal steps in logged order): as stored, or
    re-binned to ``bins`` equal-width buckets over one range shared by all of them."""
    _check_range(start_step, end_step)
    if bins < 0 or bins > MAX_BINS:
        raise InvalidArgument(f"bins must be between 0 (as stored) and {MAX_BINS}, got {bins}")
    with db.read() as conn:
        series = _series(conn, run_id, "histogram", tag)
        rows = store.entries(conn, "histogram", series, start_step=start_step, end_step=end_step)
    stored = [
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
    return rebin(stored, bins=bins) if bins else stored


def read_distributions(
    db: Database, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
) -> list[tuple[Histogram, npt.NDArray[np.float64]]]:
    """Per histogram of a tag, its values at ``BASIS_POINTS`` (TensorBoard's distributions)."""
    histograms = read_histograms(db, run_id, tag, start_step=start_step, end_step=end_step)
    return list(zip(histograms, distributions(histograms), strict=True))


def read_pr_curves(
    db: Database, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
) -> list[PrCurve]:
    """Every PR curve of a tag ordered by step (equal steps in logged order)."""
    _check_range(start_step, end_step)
    with db.read() as conn:
        series = _series(conn, run_id, "pr_curve", tag)
        rows = store.entries(conn, "pr_curve", series, start_step=start_step, end_step=end_step)
    return [
        PrCurve(
            step=r.step,
            wall_time=r.wall_time,
            num_thresholds=r.num_thresholds,
            data=np.frombuffer(r.data, dtype="<f8").reshape(6, r.num_thresholds),
        )
        for r in rows
    ]


def read_texts(
    db: Database, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
) -> list[Text]:
    """Every text of a tag ordered by step (equal steps in logged order)."""
    _check_range(start_step, end_step)
    with db.read() as conn:
        series = _series(conn, run_id, "text", tag)
        rows = store.entries(conn, "text", series, start_step=start_step, end_step=end_step)
    return [Text(step=r.step, wall_time=r.wall_time, text=r.text) for r in rows]

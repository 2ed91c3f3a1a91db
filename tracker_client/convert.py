"""Wire messages -> the client's records."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.hparams import from_proto
from tracker_client.records import (
    Histogram,
    ProjectRecord,
    RunRecord,
    RunStatus,
    ScalarSummary,
    TagRecord,
)

STATUS_NAMES: dict[pb.RunStatus, RunStatus] = {
    pb.RUN_STATUS_RUNNING: "running",
    pb.RUN_STATUS_FINISHED: "finished",
    pb.RUN_STATUS_FAILED: "failed",
    pb.RUN_STATUS_KILLED: "killed",
}
STATUS_CODES: dict[str, pb.RunStatus] = {name: code for code, name in STATUS_NAMES.items()}


def _time(stamp: Timestamp, present: bool = True) -> dt.datetime | None:
    return stamp.ToDatetime(tzinfo=dt.UTC) if present else None


def run_record(run: pb.Run) -> RunRecord:
    created = _time(run.created_at)
    assert created is not None
    return RunRecord(
        id=run.id,
        project=run.project,
        name=run.name,
        status=STATUS_NAMES.get(run.status, "running"),
        hparams={name: from_proto(value) for name, value in sorted(run.hparams.items())},
        created_at=created,
        finished_at=_time(run.finished_at, run.HasField("finished_at")),
    )


def project_record(project: pb.Project) -> ProjectRecord:
    created = _time(project.created_at)
    assert created is not None
    return ProjectRecord(name=project.name, created_at=created, run_count=project.run_count)


def tag_record(info: pb.TagInfo) -> TagRecord:
    summary = None
    if info.kind == pb.SERIES_KIND_SCALAR and info.HasField("summary"):
        s = info.summary
        summary = ScalarSummary(
            count=s.count,
            last_step=s.last_step,
            last_value=s.last_value,
            last_wall_time=s.last_wall_time,
            min_value=s.min_value if s.HasField("min_value") else None,
            max_value=s.max_value if s.HasField("max_value") else None,
            first_nonfinite_step=s.first_nonfinite_step if s.HasField("first_nonfinite_step") else None,
        )
    kind: Literal["scalar", "histogram"] = "scalar" if info.kind == pb.SERIES_KIND_SCALAR else "histogram"
    return TagRecord(tag=info.tag, kind=kind, count=info.count, summary=summary)


def histogram_record(h: pb.Histogram) -> Histogram:
    return Histogram(
        step=h.step,
        wall_time=h.wall_time,
        count=h.count,
        min=h.min,
        max=h.max,
        sum=h.sum,
        sum_squares=h.sum_squares,
        bucket_limits=np.array(h.bucket_limits, dtype=np.float64),
        bucket_counts=np.array(h.bucket_counts, dtype=np.float64),
        nan_count=h.nan_count,
    )

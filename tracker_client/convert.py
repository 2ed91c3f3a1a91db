"""Wire messages <-> the client's records. The histogram conversions serve the server too."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
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


_HISTOGRAM_NUMBERS = ("step", "wall_time", "count", "min", "max", "sum", "sum_squares", "nan_count")


class HistogramLike(Protocol):
    """Any histogram value type with the wire's fields (the client's record, the server's domain value)."""

    @property
    def bucket_limits(self) -> npt.NDArray[np.float64]: ...

    @property
    def bucket_counts(self) -> npt.NDArray[np.float64]: ...


def histogram_fields(message: pb.Histogram) -> dict[str, Any]:
    """The fields of a wire histogram as keyword arguments for a histogram value type."""
    fields: dict[str, Any] = {name: getattr(message, name) for name in _HISTOGRAM_NUMBERS}
    fields["bucket_limits"] = np.array(message.bucket_limits, dtype=np.float64)
    fields["bucket_counts"] = np.array(message.bucket_counts, dtype=np.float64)
    return fields


def histogram_to_proto(histogram: HistogramLike) -> pb.Histogram:
    return pb.Histogram(
        **{name: getattr(histogram, name) for name in _HISTOGRAM_NUMBERS},
        bucket_limits=histogram.bucket_limits.tolist(),
        bucket_counts=histogram.bucket_counts.tolist(),
    )


def histogram_record(message: pb.Histogram) -> Histogram:
    return Histogram(**histogram_fields(message))

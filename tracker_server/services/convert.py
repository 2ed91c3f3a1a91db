"""Wire messages <-> domain values. Decoding errors become InvalidArgument naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from google.protobuf.timestamp_pb2 import Timestamp

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.convert import histogram_fields, pr_curve_data
from tracker_client.hparams import from_proto, to_proto
from tracker_server.domain.errors import InvalidArgument
from tracker_server.domain.ingest import check_size
from tracker_server.domain.model import (
    Histogram,
    HParamValue,
    PrCurve,
    ProjectInfo,
    RunInfo,
    ScalarColumn,
    ScalarSeries,
    TagInfo,
    Text,
    WriteBatch,
)

STATUS_TO_PROTO = {
    "running": pb.RUN_STATUS_RUNNING,
    "finished": pb.RUN_STATUS_FINISHED,
    "failed": pb.RUN_STATUS_FAILED,
    "killed": pb.RUN_STATUS_KILLED,
}
STATUS_FROM_PROTO = {code: name for name, code in STATUS_TO_PROTO.items()}
KIND_TO_PROTO = {
    "scalar": pb.SERIES_KIND_SCALAR,
    "histogram": pb.SERIES_KIND_HISTOGRAM,
    "pr_curve": pb.SERIES_KIND_PR_CURVE,
    "text": pb.SERIES_KIND_TEXT,
}


def timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def hparams_from_proto(field: str, values: Mapping[str, pb.HParamValue]) -> dict[str, HParamValue]:
    out: dict[str, HParamValue] = {}
    for name, value in values.items():
        if value.WhichOneof("kind") is None:
            raise InvalidArgument(f"{field}[{name!r}] has no value (set one of float/int/string/bool)")
        out[name] = from_proto(value)
    return out


def run_to_proto(run: RunInfo) -> pb.Run:
    message = pb.Run(
        id=run.id,
        project=run.project,
        name=run.name,
        status=STATUS_TO_PROTO[run.status],
        hparams={name: to_proto(value) for name, value in run.hparams.items()},
        created_at=timestamp(run.created_at),
        custom_scalars=run.custom_scalars or "",
        created_by=run.created_by,
    )
    if run.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(run.finished_at))
    return message


def project_to_proto(project: ProjectInfo) -> pb.Project:
    return pb.Project(
        name=project.name, created_at=timestamp(project.created_at), run_count=project.run_count
    )


def tag_to_proto(tag: TagInfo) -> pb.TagInfo:
    message = pb.TagInfo(tag=tag.tag, kind=KIND_TO_PROTO[tag.kind], count=tag.count)
    if tag.summary is not None:
        s = tag.summary
        message.summary.CopyFrom(
            pb.ScalarSummary(
                count=s.count,
                last_step=s.last_step,
                last_value=s.last_value,
                last_wall_time=s.last_wall_time,
                min_value=s.min_value,
                max_value=s.max_value,
                first_nonfinite_step=s.first_nonfinite_step,
            )
        )
    return message


def _array(field: str, raw: bytes, dtype: str) -> npt.NDArray[np.generic]:
    if len(raw) % 8:
        raise InvalidArgument(f"{field}: {len(raw)} bytes is not a whole number of 8-byte values")
    return np.frombuffer(raw, dtype=dtype)


def _joined(records: Sequence[bytes]) -> bytes:
    """A packed array sent as several records is their concatenation (usually there is one)."""
    return records[0] if len(records) == 1 else b"".join(records)


def batch_from_proto(message: pb.WriteBatchBytes) -> WriteBatch:
    """Decode a batch; the packed arrays are viewed in place, never copied into Python floats.

    The batch's size is checked first, on counts the message already knows: decoding a million
    histograms takes seconds, refusing them should not."""
    check_size(
        columns=len(message.scalars) + len(message.histograms) + len(message.pr_curves) + len(message.texts),
        points=sum(len(raw) for column in message.scalars for raw in column.steps) // 8
        + sum(len(column.histograms) for column in message.histograms)
        + sum(len(column.curves) for column in message.pr_curves)
        + sum(len(column.texts) for column in message.texts),
    )
    scalars = []
    for i, column in enumerate(message.scalars):
        steps, wall_times, values = _joined(column.steps), _joined(column.wall_times), _joined(column.values)
        scalars.append(
            ScalarColumn(
                tag=column.tag,
                steps=_array(f"scalars[{i}].steps", steps, "<i8"),  # type: ignore[arg-type]
                wall_times=_array(f"scalars[{i}].wall_times", wall_times, "<f8"),  # type: ignore[arg-type]
                values=_array(f"scalars[{i}].values", values, "<f8"),  # type: ignore[arg-type]
                steps_bytes=steps,
                wall_times_bytes=wall_times,
                values_bytes=values,
            )
        )
    histograms = tuple(
        (column.tag, tuple(Histogram(**histogram_fields(h)) for h in column.histograms))
        for column in message.histograms
    )
    pr_curves = []
    for i, pr_column in enumerate(message.pr_curves):
        curves = []
        for j, c in enumerate(pr_column.curves):
            try:
                data = pr_curve_data(c)
            except ValueError as exc:
                raise InvalidArgument(f"pr_curves[{i}].curves[{j}] (tag {pr_column.tag!r}): {exc}") from None
            curves.append(
                PrCurve(step=c.step, wall_time=c.wall_time, num_thresholds=c.num_thresholds, data=data)
            )
        pr_curves.append((pr_column.tag, tuple(curves)))
    texts = tuple(
        (column.tag, tuple(Text(step=t.step, wall_time=t.wall_time, text=t.text) for t in column.texts))
        for column in message.texts
    )
    return WriteBatch(
        run_id=message.run_id,
        writer_id=message.writer_id,
        seq=message.seq,
        scalars=tuple(scalars),
        histograms=histograms,
        pr_curves=tuple(pr_curves),
        texts=texts,
        position=message.position,
    )


def scalar_pages(series: ScalarSeries, page_points: int) -> Iterator[pb.ScalarPageBytes]:
    """The series as consecutive pages of raw little-endian arrays (at least one page, maybe empty)."""
    for start in range(0, max(series.steps.size, 1), page_points):
        end = start + page_points
        yield pb.ScalarPageBytes(
            total_points=series.total_points if start == 0 else 0,
            steps=series.steps[start:end].astype("<i8", copy=False).tobytes(),
            wall_times=series.wall_times[start:end].astype("<f8", copy=False).tobytes(),
            values=series.values[start:end].astype("<f8", copy=False).tobytes(),
        )


def optional_int(message: object, field: str) -> int | None:
    return int(getattr(message, field)) if message.HasField(field) else None  # type: ignore[attr-defined]

"""Wire messages <-> the client's records. The histogram conversions serve the server too."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from google.protobuf.timestamp_pb2 import Timestamp

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.hparams import from_proto, to_proto
from tracker_client.records import (
    Axis,
    ColumnKind,
    Distribution,
    Domain,
    Experiment,
    Filter,
    Histogram,
    HParamImportance,
    HParamInfo,
    Importance,
    Interval,
    MetricInfo,
    PrCurve,
    ProjectRecord,
    RunRecord,
    RunStatus,
    ScalarSummary,
    SeriesKind,
    SessionGroup,
    SessionGroups,
    SessionRun,
    Sort,
    TagRecord,
    TextRecord,
    ValueType,
)

STATUS_NAMES: dict[pb.RunStatus, RunStatus] = {
    pb.RUN_STATUS_RUNNING: "running",
    pb.RUN_STATUS_FINISHED: "finished",
    pb.RUN_STATUS_FAILED: "failed",
    pb.RUN_STATUS_KILLED: "killed",
}
STATUS_CODES: dict[str, pb.RunStatus] = {name: code for code, name in STATUS_NAMES.items()}
SERIES_KINDS: dict[int, SeriesKind] = {
    pb.SERIES_KIND_SCALAR: "scalar",
    pb.SERIES_KIND_HISTOGRAM: "histogram",
    pb.SERIES_KIND_PR_CURVE: "pr_curve",
    pb.SERIES_KIND_TEXT: "text",
}


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
        custom_scalars=json.loads(run.custom_scalars) if run.custom_scalars else None,
        created_by=run.created_by,
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
    kind = SERIES_KINDS.get(info.kind, "scalar")
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


def pr_curve_to_proto(step: int, wall_time: float, data: npt.NDArray[np.float64]) -> pb.PrCurve:
    """A PR curve from its 6 x num_thresholds rows (TP, FP, TN, FN, precision, recall)."""
    return pb.PrCurve(
        step=step, wall_time=wall_time, num_thresholds=int(data.shape[1]), values=data.reshape(-1).tolist()
    )


def pr_curve_data(message: pb.PrCurve) -> npt.NDArray[np.float64]:
    """The 6 x num_thresholds rows of a wire PR curve (ValueError when the sizes disagree)."""
    values = np.array(message.values, dtype=np.float64)
    n = message.num_thresholds
    if n < 1:
        raise ValueError(f"num_thresholds must be at least 1, got {n}")
    if values.size != 6 * n:
        raise ValueError(
            f"values must hold 6 rows of num_thresholds = {n} values ({6 * n}), got {values.size}"
        )
    return values.reshape(6, n)


def pr_curve_record(message: pb.PrCurve) -> PrCurve:
    tp, fp, tn, fn, precision, recall = pr_curve_data(message)
    n = message.num_thresholds
    return PrCurve(
        step=message.step,
        wall_time=message.wall_time,
        thresholds=np.arange(n, dtype=np.float64) / max(n - 1, 1),
        true_positives=tp,
        false_positives=fp,
        true_negatives=tn,
        false_negatives=fn,
        precision=precision,
        recall=recall,
    )


def text_record(message: pb.Text) -> TextRecord:
    return TextRecord(step=message.step, wall_time=message.wall_time, text=message.text)


# -- comparing runs ------------------------------------------------------------------------------

VALUE_TYPES: dict[int, ValueType] = {
    pb.VALUE_TYPE_NUMBER: "number",
    pb.VALUE_TYPE_STRING: "string",
    pb.VALUE_TYPE_BOOL: "bool",
}
COLUMN_KINDS: dict[int, ColumnKind] = {pb.COLUMN_KIND_HPARAM: "hparam", pb.COLUMN_KIND_METRIC: "metric"}
COLUMN_KIND_CODES: dict[str, int] = {name: code for code, name in COLUMN_KINDS.items()}
METRIC_VALUE_CODES = {"last": pb.METRIC_VALUE_LAST, "min": pb.METRIC_VALUE_MIN, "max": pb.METRIC_VALUE_MAX}
AGGREGATE_CODES = {
    "mean": pb.AGGREGATE_MEAN,
    "median": pb.AGGREGATE_MEDIAN,
    "min": pb.AGGREGATE_MIN,
    "max": pb.AGGREGATE_MAX,
    "std": pb.AGGREGATE_STD,
}


def code_of(field: str, table: Mapping[str, Any], value: str) -> Any:
    if value not in table:
        raise ValueError(f"{field} must be one of {', '.join(table)}, got {value!r}")
    return table[value]


def interval_record(message: pb.Interval) -> Interval:
    return Interval(
        min=message.min if message.HasField("min") else None,
        max=message.max if message.HasField("max") else None,
        min_open=message.min_open,
        max_open=message.max_open,
    )


def domain_record(message: pb.Domain) -> Domain | None:
    kind = message.WhichOneof("kind")
    if kind == "interval":
        return interval_record(message.interval)
    if kind == "values":
        return tuple(from_proto(v) for v in message.values.values)
    return None


def experiment_record(message: pb.Experiment) -> Experiment:
    return Experiment(
        project=message.project,
        run_count=message.run_count,
        hparams=tuple(
            HParamInfo(
                name=h.name,
                type=VALUE_TYPES[h.type],
                domain=domain_record(h.domain),
                domain_truncated=h.domain.values.truncated,
                differs=h.differs,
                run_count=h.run_count,
            )
            for h in message.hparams
        ),
        metrics=tuple(
            MetricInfo(m.tag, m.run_count, interval_record(m.domain) if m.HasField("domain") else None)
            for m in message.metrics
        ),
    )


def session_groups_record(message: pb.ListSessionGroupsResponse) -> SessionGroups:
    return SessionGroups(
        axes=tuple(
            Axis(COLUMN_KINDS[a.column.kind], a.column.name, VALUE_TYPES[a.type], domain_record(a.domain))
            for a in message.axes
        ),
        groups=tuple(
            SessionGroup(
                key=g.key,
                hparams={name: from_proto(v) for name, v in sorted(g.hparams.items())},
                metrics=dict(sorted(g.metrics.items())),
                runs=tuple(r.id for r in g.runs),
                sessions=tuple(
                    SessionRun(
                        r.id, r.name, STATUS_NAMES.get(r.status, "running"), dict(sorted(r.metrics.items()))
                    )
                    for r in g.runs
                ),
            )
            for g in message.groups
        ),
        total=message.total,
    )


def filter_to_proto(f: Filter) -> pb.Filter:
    message = pb.Filter(
        column=pb.Column(kind=code_of("filter kind", COLUMN_KIND_CODES, f.kind), name=f.name),
        include_missing=f.include_missing,
    )
    tests = [t for t in (f.min, f.max, f.one_of, f.none_of, f.regex) if t is not None]
    if f.one_of is not None:
        message.one_of.CopyFrom(pb.ValueSet(values=[to_proto(v) for v in f.one_of]))
    elif f.none_of is not None:
        message.none_of.CopyFrom(pb.ValueSet(values=[to_proto(v) for v in f.none_of]))
    elif f.regex is not None:
        message.regex = f.regex
    elif tests:
        message.interval.CopyFrom(pb.Interval(min=f.min, max=f.max, min_open=f.min_open, max_open=f.max_open))
    return message


def sort_to_proto(sort: Sort | str) -> pb.Sort:
    if isinstance(sort, str):  # "val/acc" ascending, "-val/acc" descending: metrics
        descending = sort.startswith("-")
        sort = Sort(sort[1:] if descending else sort, descending=descending)
    return pb.Sort(
        column=pb.Column(kind=code_of("sort kind", COLUMN_KIND_CODES, sort.kind), name=sort.name),
        descending=sort.descending,
        missing_first=sort.missing_first,
    )


def importance_record(metric: str, message: pb.GetImportanceResponse) -> Importance:
    return Importance(
        metric=metric,
        hparams=tuple(
            HParamImportance(
                h.name, h.correlation if h.HasField("correlation") else None, h.importance, h.run_count
            )
            for h in message.hparams
        ),
        run_count=message.run_count,
        model_r2=message.model_r2,
    )


def distribution_record(message: pb.Distribution) -> Distribution:
    return Distribution(
        step=message.step,
        wall_time=message.wall_time,
        values=np.array(message.values, dtype=np.float64),
        count=message.count,
        nan_count=message.nan_count,
    )

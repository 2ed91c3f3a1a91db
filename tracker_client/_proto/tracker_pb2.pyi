import datetime

from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Access(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_UNSPECIFIED: _ClassVar[Access]
    ACCESS_SIGNED_IN: _ClassVar[Access]
    ACCESS_READ: _ClassVar[Access]
    ACCESS_WRITE: _ClassVar[Access]
    ACCESS_MANAGE: _ClassVar[Access]
    ACCESS_SERVER_ADMIN: _ClassVar[Access]

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_RUNNING: _ClassVar[RunStatus]
    RUN_STATUS_FINISHED: _ClassVar[RunStatus]
    RUN_STATUS_FAILED: _ClassVar[RunStatus]
    RUN_STATUS_KILLED: _ClassVar[RunStatus]

class SeriesKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERIES_KIND_UNSPECIFIED: _ClassVar[SeriesKind]
    SERIES_KIND_SCALAR: _ClassVar[SeriesKind]
    SERIES_KIND_HISTOGRAM: _ClassVar[SeriesKind]
    SERIES_KIND_PR_CURVE: _ClassVar[SeriesKind]
    SERIES_KIND_TEXT: _ClassVar[SeriesKind]

class ValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_TYPE_UNSPECIFIED: _ClassVar[ValueType]
    VALUE_TYPE_NUMBER: _ClassVar[ValueType]
    VALUE_TYPE_STRING: _ClassVar[ValueType]
    VALUE_TYPE_BOOL: _ClassVar[ValueType]

class MetricValue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_VALUE_LAST: _ClassVar[MetricValue]
    METRIC_VALUE_MIN: _ClassVar[MetricValue]
    METRIC_VALUE_MAX: _ClassVar[MetricValue]

class Aggregate(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGGREGATE_MEAN: _ClassVar[Aggregate]
    AGGREGATE_MEDIAN: _ClassVar[Aggregate]
    AGGREGATE_MIN: _ClassVar[Aggregate]
    AGGREGATE_MAX: _ClassVar[Aggregate]
    AGGREGATE_STD: _ClassVar[Aggregate]

class ColumnKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLUMN_KIND_UNSPECIFIED: _ClassVar[ColumnKind]
    COLUMN_KIND_HPARAM: _ClassVar[ColumnKind]
    COLUMN_KIND_METRIC: _ClassVar[ColumnKind]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_VIEWER: _ClassVar[Role]
    ROLE_WRITER: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]
ACCESS_UNSPECIFIED: Access
ACCESS_SIGNED_IN: Access
ACCESS_READ: Access
ACCESS_WRITE: Access
ACCESS_MANAGE: Access
ACCESS_SERVER_ADMIN: Access
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_FINISHED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_KILLED: RunStatus
SERIES_KIND_UNSPECIFIED: SeriesKind
SERIES_KIND_SCALAR: SeriesKind
SERIES_KIND_HISTOGRAM: SeriesKind
SERIES_KIND_PR_CURVE: SeriesKind
SERIES_KIND_TEXT: SeriesKind
VALUE_TYPE_UNSPECIFIED: ValueType
VALUE_TYPE_NUMBER: ValueType
VALUE_TYPE_STRING: ValueType
VALUE_TYPE_BOOL: ValueType
METRIC_VALUE_LAST: MetricValue
METRIC_VALUE_MIN: MetricValue
METRIC_VALUE_MAX: MetricValue
AGGREGATE_MEAN: Aggregate
AGGREGATE_MEDIAN: Aggregate
AGGREGATE_MIN: Aggregate
AGGREGATE_MAX: Aggregate
AGGREGATE_STD: Aggregate
COLUMN_KIND_UNSPECIFIED: ColumnKind
COLUMN_KIND_HPARAM: ColumnKind
COLUMN_KIND_METRIC: ColumnKind
ROLE_UNSPECIFIED: Role
ROLE_VIEWER: Role
ROLE_WRITER: Role
ROLE_ADMIN: Role
ACCESS_FIELD_NUMBER: _ClassVar[int]
access: _descriptor.FieldDescriptor

class HParamValue(_message.Message):
    __slots__ = ("float_value", "int_value", "string_value", "bool_value")
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    float_value: float
    int_value: int
    string_value: str
    bool_value: bool
    def __init__(self, float_value: _Optional[float] = ..., int_value: _Optional[int] = ..., string_value: _Optional[str] = ..., bool_value: _Optional[bool] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("id", "project", "name", "status", "hparams", "created_at", "finished_at", "custom_scalars", "created_by")
    class HparamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HParamValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_SCALARS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    project: str
    name: str
    status: RunStatus
    hparams: _containers.MessageMap[str, HParamValue]
    created_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    custom_scalars: str
    created_by: str
    def __init__(self, id: _Optional[str] = ..., project: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., hparams: _Optional[_Mapping[str, HParamValue]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., custom_scalars: _Optional[str] = ..., created_by: _Optional[str] = ...) -> None: ...

class CreateRunRequest(_message.Message):
    __slots__ = ("project", "name", "hparams")
    class HparamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HParamValue, _Mapping]] = ...) -> None: ...
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    project: str
    name: str
    hparams: _containers.MessageMap[str, HParamValue]
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., hparams: _Optional[_Mapping[str, HParamValue]] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run", "resumed", "next_step")
    RUN_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    run: Run
    resumed: bool
    next_step: int
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ..., resumed: _Optional[bool] = ..., next_step: _Optional[int] = ...) -> None: ...

class SetHParamsRequest(_message.Message):
    __slots__ = ("run_id", "hparams")
    class HparamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HParamValue, _Mapping]] = ...) -> None: ...
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    hparams: _containers.MessageMap[str, HParamValue]
    def __init__(self, run_id: _Optional[str] = ..., hparams: _Optional[_Mapping[str, HParamValue]] = ...) -> None: ...

class SetHParamsResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class FinishRunRequest(_message.Message):
    __slots__ = ("run_id", "status")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: RunStatus
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ...) -> None: ...

class FinishRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class SetCustomScalarsRequest(_message.Message):
    __slots__ = ("run_id", "layout")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LAYOUT_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    layout: str
    def __init__(self, run_id: _Optional[str] = ..., layout: _Optional[str] = ...) -> None: ...

class SetCustomScalarsResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class PurgeStepsRequest(_message.Message):
    __slots__ = ("run_id", "from_step")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_STEP_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    from_step: int
    def __init__(self, run_id: _Optional[str] = ..., from_step: _Optional[int] = ...) -> None: ...

class PurgeStepsResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class DeleteRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class DeleteRunResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("project", "page_size", "page_token")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project: str
    page_size: int
    page_token: str
    def __init__(self, project: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("name", "created_at", "run_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    created_at: _timestamp_pb2.Timestamp
    run_count: int
    def __init__(self, name: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_count: _Optional[int] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects", "next_page_token")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    next_page_token: str
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCursorRequest(_message.Message):
    __slots__ = ("run_id", "writer_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    writer_id: str
    def __init__(self, run_id: _Optional[str] = ..., writer_id: _Optional[str] = ...) -> None: ...

class GetCursorResponse(_message.Message):
    __slots__ = ("last_seq", "position")
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    last_seq: int
    position: int
    def __init__(self, last_seq: _Optional[int] = ..., position: _Optional[int] = ...) -> None: ...

class ScalarColumn(_message.Message):
    __slots__ = ("tag", "steps", "wall_times", "values")
    TAG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    tag: str
    steps: _containers.RepeatedScalarFieldContainer[int]
    wall_times: _containers.RepeatedScalarFieldContainer[float]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, tag: _Optional[str] = ..., steps: _Optional[_Iterable[int]] = ..., wall_times: _Optional[_Iterable[float]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class Histogram(_message.Message):
    __slots__ = ("step", "wall_time", "count", "min", "max", "sum", "sum_squares", "bucket_limits", "bucket_counts", "nan_count")
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    SUM_SQUARES_FIELD_NUMBER: _ClassVar[int]
    BUCKET_LIMITS_FIELD_NUMBER: _ClassVar[int]
    BUCKET_COUNTS_FIELD_NUMBER: _ClassVar[int]
    NAN_COUNT_FIELD_NUMBER: _ClassVar[int]
    step: int
    wall_time: float
    count: float
    min: float
    max: float
    sum: float
    sum_squares: float
    bucket_limits: _containers.RepeatedScalarFieldContainer[float]
    bucket_counts: _containers.RepeatedScalarFieldContainer[float]
    nan_count: float
    def __init__(self, step: _Optional[int] = ..., wall_time: _Optional[float] = ..., count: _Optional[float] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., sum: _Optional[float] = ..., sum_squares: _Optional[float] = ..., bucket_limits: _Optional[_Iterable[float]] = ..., bucket_counts: _Optional[_Iterable[float]] = ..., nan_count: _Optional[float] = ...) -> None: ...

class HistogramColumn(_message.Message):
    __slots__ = ("tag", "histograms")
    TAG_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    tag: str
    histograms: _containers.RepeatedCompositeFieldContainer[Histogram]
    def __init__(self, tag: _Optional[str] = ..., histograms: _Optional[_Iterable[_Union[Histogram, _Mapping]]] = ...) -> None: ...

class PrCurve(_message.Message):
    __slots__ = ("step", "wall_time", "num_thresholds", "values")
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    NUM_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    step: int
    wall_time: float
    num_thresholds: int
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, step: _Optional[int] = ..., wall_time: _Optional[float] = ..., num_thresholds: _Optional[int] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class PrCurveColumn(_message.Message):
    __slots__ = ("tag", "curves")
    TAG_FIELD_NUMBER: _ClassVar[int]
    CURVES_FIELD_NUMBER: _ClassVar[int]
    tag: str
    curves: _containers.RepeatedCompositeFieldContainer[PrCurve]
    def __init__(self, tag: _Optional[str] = ..., curves: _Optional[_Iterable[_Union[PrCurve, _Mapping]]] = ...) -> None: ...

class Text(_message.Message):
    __slots__ = ("step", "wall_time", "text")
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    step: int
    wall_time: float
    text: str
    def __init__(self, step: _Optional[int] = ..., wall_time: _Optional[float] = ..., text: _Optional[str] = ...) -> None: ...

class TextColumn(_message.Message):
    __slots__ = ("tag", "texts")
    TAG_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    tag: str
    texts: _containers.RepeatedCompositeFieldContainer[Text]
    def __init__(self, tag: _Optional[str] = ..., texts: _Optional[_Iterable[_Union[Text, _Mapping]]] = ...) -> None: ...

class WriteBatch(_message.Message):
    __slots__ = ("run_id", "writer_id", "seq", "scalars", "histograms", "pr_curves", "texts", "position")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    PR_CURVES_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    writer_id: str
    seq: int
    scalars: _containers.RepeatedCompositeFieldContainer[ScalarColumn]
    histograms: _containers.RepeatedCompositeFieldContainer[HistogramColumn]
    pr_curves: _containers.RepeatedCompositeFieldContainer[PrCurveColumn]
    texts: _containers.RepeatedCompositeFieldContainer[TextColumn]
    position: int
    def __init__(self, run_id: _Optional[str] = ..., writer_id: _Optional[str] = ..., seq: _Optional[int] = ..., scalars: _Optional[_Iterable[_Union[ScalarColumn, _Mapping]]] = ..., histograms: _Optional[_Iterable[_Union[HistogramColumn, _Mapping]]] = ..., pr_curves: _Optional[_Iterable[_Union[PrCurveColumn, _Mapping]]] = ..., texts: _Optional[_Iterable[_Union[TextColumn, _Mapping]]] = ..., position: _Optional[int] = ...) -> None: ...

class WriteAck(_message.Message):
    __slots__ = ("writer_id", "seq", "duplicate")
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    writer_id: str
    seq: int
    duplicate: bool
    def __init__(self, writer_id: _Optional[str] = ..., seq: _Optional[int] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ScalarColumnBytes(_message.Message):
    __slots__ = ("tag", "steps", "wall_times", "values")
    TAG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    tag: str
    steps: _containers.RepeatedScalarFieldContainer[bytes]
    wall_times: _containers.RepeatedScalarFieldContainer[bytes]
    values: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, tag: _Optional[str] = ..., steps: _Optional[_Iterable[bytes]] = ..., wall_times: _Optional[_Iterable[bytes]] = ..., values: _Optional[_Iterable[bytes]] = ...) -> None: ...

class WriteBatchBytes(_message.Message):
    __slots__ = ("run_id", "writer_id", "seq", "scalars", "histograms", "pr_curves", "texts", "position")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    PR_CURVES_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    writer_id: str
    seq: int
    scalars: _containers.RepeatedCompositeFieldContainer[ScalarColumnBytes]
    histograms: _containers.RepeatedCompositeFieldContainer[HistogramColumn]
    pr_curves: _containers.RepeatedCompositeFieldContainer[PrCurveColumn]
    texts: _containers.RepeatedCompositeFieldContainer[TextColumn]
    position: int
    def __init__(self, run_id: _Optional[str] = ..., writer_id: _Optional[str] = ..., seq: _Optional[int] = ..., scalars: _Optional[_Iterable[_Union[ScalarColumnBytes, _Mapping]]] = ..., histograms: _Optional[_Iterable[_Union[HistogramColumn, _Mapping]]] = ..., pr_curves: _Optional[_Iterable[_Union[PrCurveColumn, _Mapping]]] = ..., texts: _Optional[_Iterable[_Union[TextColumn, _Mapping]]] = ..., position: _Optional[int] = ...) -> None: ...

class ScalarSummary(_message.Message):
    __slots__ = ("count", "last_step", "last_value", "last_wall_time", "min_value", "max_value", "first_nonfinite_step")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_STEP_FIELD_NUMBER: _ClassVar[int]
    LAST_VALUE_FIELD_NUMBER: _ClassVar[int]
    LAST_WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIRST_NONFINITE_STEP_FIELD_NUMBER: _ClassVar[int]
    count: int
    last_step: int
    last_value: float
    last_wall_time: float
    min_value: float
    max_value: float
    first_nonfinite_step: int
    def __init__(self, count: _Optional[int] = ..., last_step: _Optional[int] = ..., last_value: _Optional[float] = ..., last_wall_time: _Optional[float] = ..., min_value: _Optional[float] = ..., max_value: _Optional[float] = ..., first_nonfinite_step: _Optional[int] = ...) -> None: ...

class TagInfo(_message.Message):
    __slots__ = ("tag", "kind", "count", "summary")
    TAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    tag: str
    kind: SeriesKind
    count: int
    summary: ScalarSummary
    def __init__(self, tag: _Optional[str] = ..., kind: _Optional[_Union[SeriesKind, str]] = ..., count: _Optional[int] = ..., summary: _Optional[_Union[ScalarSummary, _Mapping]] = ...) -> None: ...

class ListTagsRequest(_message.Message):
    __slots__ = ("run_id", "page_size", "page_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    page_size: int
    page_token: str
    def __init__(self, run_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTagsResponse(_message.Message):
    __slots__ = ("tags", "next_page_token")
    TAGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedCompositeFieldContainer[TagInfo]
    next_page_token: str
    def __init__(self, tags: _Optional[_Iterable[_Union[TagInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReadScalarsRequest(_message.Message):
    __slots__ = ("run_id", "tag", "start_step", "end_step", "max_points")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    start_step: int
    end_step: int
    max_points: int
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ..., max_points: _Optional[int] = ...) -> None: ...

class ScalarPage(_message.Message):
    __slots__ = ("steps", "wall_times", "values", "total_points")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POINTS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[int]
    wall_times: _containers.RepeatedScalarFieldContainer[float]
    values: _containers.RepeatedScalarFieldContainer[float]
    total_points: int
    def __init__(self, steps: _Optional[_Iterable[int]] = ..., wall_times: _Optional[_Iterable[float]] = ..., values: _Optional[_Iterable[float]] = ..., total_points: _Optional[int] = ...) -> None: ...

class ReadScalarsManyRequest(_message.Message):
    __slots__ = ("run_ids", "tags", "max_points", "start_step", "end_step")
    RUN_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    run_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedScalarFieldContainer[str]
    max_points: int
    start_step: int
    end_step: int
    def __init__(self, run_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., max_points: _Optional[int] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ...) -> None: ...

class SeriesPage(_message.Message):
    __slots__ = ("run_id", "tag", "steps", "wall_times", "values", "total_points", "last")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POINTS_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    steps: _containers.RepeatedScalarFieldContainer[int]
    wall_times: _containers.RepeatedScalarFieldContainer[float]
    values: _containers.RepeatedScalarFieldContainer[float]
    total_points: int
    last: bool
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., steps: _Optional[_Iterable[int]] = ..., wall_times: _Optional[_Iterable[float]] = ..., values: _Optional[_Iterable[float]] = ..., total_points: _Optional[int] = ..., last: _Optional[bool] = ...) -> None: ...

class SeriesPageBytes(_message.Message):
    __slots__ = ("run_id", "tag", "steps", "wall_times", "values", "total_points", "last")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POINTS_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    steps: bytes
    wall_times: bytes
    values: bytes
    total_points: int
    last: bool
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., steps: _Optional[bytes] = ..., wall_times: _Optional[bytes] = ..., values: _Optional[bytes] = ..., total_points: _Optional[int] = ..., last: _Optional[bool] = ...) -> None: ...

class ScalarPageBytes(_message.Message):
    __slots__ = ("steps", "wall_times", "values", "total_points")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POINTS_FIELD_NUMBER: _ClassVar[int]
    steps: bytes
    wall_times: bytes
    values: bytes
    total_points: int
    def __init__(self, steps: _Optional[bytes] = ..., wall_times: _Optional[bytes] = ..., values: _Optional[bytes] = ..., total_points: _Optional[int] = ...) -> None: ...

class ReadHistogramsRequest(_message.Message):
    __slots__ = ("run_id", "tag", "start_step", "end_step", "bins")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    start_step: int
    end_step: int
    bins: int
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ..., bins: _Optional[int] = ...) -> None: ...

class ReadDistributionsRequest(_message.Message):
    __slots__ = ("run_id", "tag", "start_step", "end_step")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    start_step: int
    end_step: int
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ...) -> None: ...

class Distribution(_message.Message):
    __slots__ = ("step", "wall_time", "values", "count", "nan_count")
    STEP_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NAN_COUNT_FIELD_NUMBER: _ClassVar[int]
    step: int
    wall_time: float
    values: _containers.RepeatedScalarFieldContainer[float]
    count: float
    nan_count: float
    def __init__(self, step: _Optional[int] = ..., wall_time: _Optional[float] = ..., values: _Optional[_Iterable[float]] = ..., count: _Optional[float] = ..., nan_count: _Optional[float] = ...) -> None: ...

class DistributionPage(_message.Message):
    __slots__ = ("basis_points", "distributions")
    BASIS_POINTS_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    basis_points: _containers.RepeatedScalarFieldContainer[int]
    distributions: _containers.RepeatedCompositeFieldContainer[Distribution]
    def __init__(self, basis_points: _Optional[_Iterable[int]] = ..., distributions: _Optional[_Iterable[_Union[Distribution, _Mapping]]] = ...) -> None: ...

class HistogramPage(_message.Message):
    __slots__ = ("histograms",)
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    histograms: _containers.RepeatedCompositeFieldContainer[Histogram]
    def __init__(self, histograms: _Optional[_Iterable[_Union[Histogram, _Mapping]]] = ...) -> None: ...

class ReadPrCurvesRequest(_message.Message):
    __slots__ = ("run_id", "tag", "start_step", "end_step")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    start_step: int
    end_step: int
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ...) -> None: ...

class PrCurvePage(_message.Message):
    __slots__ = ("curves",)
    CURVES_FIELD_NUMBER: _ClassVar[int]
    curves: _containers.RepeatedCompositeFieldContainer[PrCurve]
    def __init__(self, curves: _Optional[_Iterable[_Union[PrCurve, _Mapping]]] = ...) -> None: ...

class ReadTextsRequest(_message.Message):
    __slots__ = ("run_id", "tag", "start_step", "end_step")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    START_STEP_FIELD_NUMBER: _ClassVar[int]
    END_STEP_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    tag: str
    start_step: int
    end_step: int
    def __init__(self, run_id: _Optional[str] = ..., tag: _Optional[str] = ..., start_step: _Optional[int] = ..., end_step: _Optional[int] = ...) -> None: ...

class TextPage(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedCompositeFieldContainer[Text]
    def __init__(self, texts: _Optional[_Iterable[_Union[Text, _Mapping]]] = ...) -> None: ...

class Interval(_message.Message):
    __slots__ = ("min", "max", "min_open", "max_open")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_OPEN_FIELD_NUMBER: _ClassVar[int]
    MAX_OPEN_FIELD_NUMBER: _ClassVar[int]
    min: float
    max: float
    min_open: bool
    max_open: bool
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ..., min_open: _Optional[bool] = ..., max_open: _Optional[bool] = ...) -> None: ...

class ValueSet(_message.Message):
    __slots__ = ("values", "truncated")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[HParamValue]
    truncated: bool
    def __init__(self, values: _Optional[_Iterable[_Union[HParamValue, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...

class Domain(_message.Message):
    __slots__ = ("interval", "values")
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    interval: Interval
    values: ValueSet
    def __init__(self, interval: _Optional[_Union[Interval, _Mapping]] = ..., values: _Optional[_Union[ValueSet, _Mapping]] = ...) -> None: ...

class HParamInfo(_message.Message):
    __slots__ = ("name", "type", "domain", "differs", "run_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    DIFFERS_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: ValueType
    domain: Domain
    differs: bool
    run_count: int
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[ValueType, str]] = ..., domain: _Optional[_Union[Domain, _Mapping]] = ..., differs: _Optional[bool] = ..., run_count: _Optional[int] = ...) -> None: ...

class MetricInfo(_message.Message):
    __slots__ = ("tag", "run_count", "domain")
    TAG_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    tag: str
    run_count: int
    domain: Interval
    def __init__(self, tag: _Optional[str] = ..., run_count: _Optional[int] = ..., domain: _Optional[_Union[Interval, _Mapping]] = ...) -> None: ...

class GetExperimentRequest(_message.Message):
    __slots__ = ("project", "metric_value")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    project: str
    metric_value: MetricValue
    def __init__(self, project: _Optional[str] = ..., metric_value: _Optional[_Union[MetricValue, str]] = ...) -> None: ...

class Experiment(_message.Message):
    __slots__ = ("project", "run_count", "hparams", "metrics")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    project: str
    run_count: int
    hparams: _containers.RepeatedCompositeFieldContainer[HParamInfo]
    metrics: _containers.RepeatedCompositeFieldContainer[MetricInfo]
    def __init__(self, project: _Optional[str] = ..., run_count: _Optional[int] = ..., hparams: _Optional[_Iterable[_Union[HParamInfo, _Mapping]]] = ..., metrics: _Optional[_Iterable[_Union[MetricInfo, _Mapping]]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("kind", "name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    kind: ColumnKind
    name: str
    def __init__(self, kind: _Optional[_Union[ColumnKind, str]] = ..., name: _Optional[str] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("column", "interval", "one_of", "none_of", "regex", "include_missing")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    ONE_OF_FIELD_NUMBER: _ClassVar[int]
    NONE_OF_FIELD_NUMBER: _ClassVar[int]
    REGEX_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_MISSING_FIELD_NUMBER: _ClassVar[int]
    column: Column
    interval: Interval
    one_of: ValueSet
    none_of: ValueSet
    regex: str
    include_missing: bool
    def __init__(self, column: _Optional[_Union[Column, _Mapping]] = ..., interval: _Optional[_Union[Interval, _Mapping]] = ..., one_of: _Optional[_Union[ValueSet, _Mapping]] = ..., none_of: _Optional[_Union[ValueSet, _Mapping]] = ..., regex: _Optional[str] = ..., include_missing: _Optional[bool] = ...) -> None: ...

class Sort(_message.Message):
    __slots__ = ("column", "descending", "missing_first")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIRST_FIELD_NUMBER: _ClassVar[int]
    column: Column
    descending: bool
    missing_first: bool
    def __init__(self, column: _Optional[_Union[Column, _Mapping]] = ..., descending: _Optional[bool] = ..., missing_first: _Optional[bool] = ...) -> None: ...

class ListSessionGroupsRequest(_message.Message):
    __slots__ = ("project", "ungrouped", "metric_value", "aggregate", "filters", "where", "statuses", "sort", "offset", "page_size", "metrics", "ignore_hparams")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    UNGROUPED_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    WHERE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    IGNORE_HPARAMS_FIELD_NUMBER: _ClassVar[int]
    project: str
    ungrouped: bool
    metric_value: MetricValue
    aggregate: Aggregate
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    where: str
    statuses: _containers.RepeatedScalarFieldContainer[RunStatus]
    sort: _containers.RepeatedCompositeFieldContainer[Sort]
    offset: int
    page_size: int
    metrics: _containers.RepeatedScalarFieldContainer[str]
    ignore_hparams: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., ungrouped: _Optional[bool] = ..., metric_value: _Optional[_Union[MetricValue, str]] = ..., aggregate: _Optional[_Union[Aggregate, str]] = ..., filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ..., where: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[RunStatus, str]]] = ..., sort: _Optional[_Iterable[_Union[Sort, _Mapping]]] = ..., offset: _Optional[int] = ..., page_size: _Optional[int] = ..., metrics: _Optional[_Iterable[str]] = ..., ignore_hparams: _Optional[_Iterable[str]] = ...) -> None: ...

class Axis(_message.Message):
    __slots__ = ("column", "type", "domain")
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    column: Column
    type: ValueType
    domain: Domain
    def __init__(self, column: _Optional[_Union[Column, _Mapping]] = ..., type: _Optional[_Union[ValueType, str]] = ..., domain: _Optional[_Union[Domain, _Mapping]] = ...) -> None: ...

class SessionRun(_message.Message):
    __slots__ = ("id", "name", "status", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    status: RunStatus
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class SessionGroup(_message.Message):
    __slots__ = ("key", "hparams", "metrics", "runs")
    class HparamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: HParamValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[HParamValue, _Mapping]] = ...) -> None: ...
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    KEY_FIELD_NUMBER: _ClassVar[int]
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    key: str
    hparams: _containers.MessageMap[str, HParamValue]
    metrics: _containers.ScalarMap[str, float]
    runs: _containers.RepeatedCompositeFieldContainer[SessionRun]
    def __init__(self, key: _Optional[str] = ..., hparams: _Optional[_Mapping[str, HParamValue]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., runs: _Optional[_Iterable[_Union[SessionRun, _Mapping]]] = ...) -> None: ...

class ListSessionGroupsResponse(_message.Message):
    __slots__ = ("axes", "groups", "total")
    AXES_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    axes: _containers.RepeatedCompositeFieldContainer[Axis]
    groups: _containers.RepeatedCompositeFieldContainer[SessionGroup]
    total: int
    def __init__(self, axes: _Optional[_Iterable[_Union[Axis, _Mapping]]] = ..., groups: _Optional[_Iterable[_Union[SessionGroup, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetImportanceRequest(_message.Message):
    __slots__ = ("project", "metric", "metric_value", "where", "statuses")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    WHERE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    project: str
    metric: str
    metric_value: MetricValue
    where: str
    statuses: _containers.RepeatedScalarFieldContainer[RunStatus]
    def __init__(self, project: _Optional[str] = ..., metric: _Optional[str] = ..., metric_value: _Optional[_Union[MetricValue, str]] = ..., where: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[RunStatus, str]]] = ...) -> None: ...

class HParamImportance(_message.Message):
    __slots__ = ("name", "correlation", "importance", "run_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_FIELD_NUMBER: _ClassVar[int]
    IMPORTANCE_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    correlation: float
    importance: float
    run_count: int
    def __init__(self, name: _Optional[str] = ..., correlation: _Optional[float] = ..., importance: _Optional[float] = ..., run_count: _Optional[int] = ...) -> None: ...

class GetImportanceResponse(_message.Message):
    __slots__ = ("hparams", "run_count", "model_r2")
    HPARAMS_FIELD_NUMBER: _ClassVar[int]
    RUN_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_R2_FIELD_NUMBER: _ClassVar[int]
    hparams: _containers.RepeatedCompositeFieldContainer[HParamImportance]
    run_count: int
    model_r2: float
    def __init__(self, hparams: _Optional[_Iterable[_Union[HParamImportance, _Mapping]]] = ..., run_count: _Optional[int] = ..., model_r2: _Optional[float] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("user", "is_admin")
    USER_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    user: str
    is_admin: bool
    def __init__(self, user: _Optional[str] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("name", "is_admin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    is_admin: bool
    def __init__(self, name: _Optional[str] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Token(_message.Message):
    __slots__ = ("id", "user", "name", "hint", "created_at", "expires_at", "revoked_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    user: str
    name: str
    hint: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    revoked_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., user: _Optional[str] = ..., name: _Optional[str] = ..., hint: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("user", "name", "expires_in")
    USER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_FIELD_NUMBER: _ClassVar[int]
    user: str
    name: str
    expires_in: str
    def __init__(self, user: _Optional[str] = ..., name: _Optional[str] = ..., expires_in: _Optional[str] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("secret", "token")
    SECRET_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    secret: str
    token: Token
    def __init__(self, secret: _Optional[str] = ..., token: _Optional[_Union[Token, _Mapping]] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: str
    def __init__(self, user: _Optional[str] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[Token]
    def __init__(self, tokens: _Optional[_Iterable[_Union[Token, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("project", "owner")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    project: str
    owner: str
    def __init__(self, project: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetMemberRequest(_message.Message):
    __slots__ = ("project", "user", "role")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    project: str
    user: str
    role: Role
    def __init__(self, project: _Optional[str] = ..., user: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class SetMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("project", "user")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    project: str
    user: str
    def __init__(self, project: _Optional[str] = ..., user: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: str
    def __init__(self, project: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("user", "role")
    USER_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    user: str
    role: Role
    def __init__(self, user: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ...) -> None: ...

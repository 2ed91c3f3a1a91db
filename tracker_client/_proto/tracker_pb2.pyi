import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_FINISHED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_KILLED: RunStatus
SERIES_KIND_UNSPECIFIED: SeriesKind
SERIES_KIND_SCALAR: SeriesKind
SERIES_KIND_HISTOGRAM: SeriesKind

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
    __slots__ = ("id", "project", "name", "status", "hparams", "created_at", "finished_at")
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
    id: str
    project: str
    name: str
    status: RunStatus
    hparams: _containers.MessageMap[str, HParamValue]
    created_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., project: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., hparams: _Optional[_Mapping[str, HParamValue]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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

class WriteBatch(_message.Message):
    __slots__ = ("run_id", "writer_id", "seq", "scalars", "histograms")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    writer_id: str
    seq: int
    scalars: _containers.RepeatedCompositeFieldContainer[ScalarColumn]
    histograms: _containers.RepeatedCompositeFieldContainer[HistogramColumn]
    def __init__(self, run_id: _Optional[str] = ..., writer_id: _Optional[str] = ..., seq: _Optional[int] = ..., scalars: _Optional[_Iterable[_Union[ScalarColumn, _Mapping]]] = ..., histograms: _Optional[_Iterable[_Union[HistogramColumn, _Mapping]]] = ...) -> None: ...

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
    steps: bytes
    wall_times: bytes
    values: bytes
    def __init__(self, tag: _Optional[str] = ..., steps: _Optional[bytes] = ..., wall_times: _Optional[bytes] = ..., values: _Optional[bytes] = ...) -> None: ...

class WriteBatchBytes(_message.Message):
    __slots__ = ("run_id", "writer_id", "seq", "scalars", "histograms")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    WRITER_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    writer_id: str
    seq: int
    scalars: _containers.RepeatedCompositeFieldContainer[ScalarColumnBytes]
    histograms: _containers.RepeatedCompositeFieldContainer[HistogramColumn]
    def __init__(self, run_id: _Optional[str] = ..., writer_id: _Optional[str] = ..., seq: _Optional[int] = ..., scalars: _Optional[_Iterable[_Union[ScalarColumnBytes, _Mapping]]] = ..., histograms: _Optional[_Iterable[_Union[HistogramColumn, _Mapping]]] = ...) -> None: ...

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

class ScalarPage(_message.Message):
    __slots__ = ("steps", "wall_times", "values")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedScalarFieldContainer[int]
    wall_times: _containers.RepeatedScalarFieldContainer[float]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, steps: _Optional[_Iterable[int]] = ..., wall_times: _Optional[_Iterable[float]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class ScalarPageBytes(_message.Message):
    __slots__ = ("steps", "wall_times", "values")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WALL_TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    steps: bytes
    wall_times: bytes
    values: bytes
    def __init__(self, steps: _Optional[bytes] = ..., wall_times: _Optional[bytes] = ..., values: _Optional[bytes] = ...) -> None: ...

class ReadHistogramsRequest(_message.Message):
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

class HistogramPage(_message.Message):
    __slots__ = ("histograms",)
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    histograms: _containers.RepeatedCompositeFieldContainer[Histogram]
    def __init__(self, histograms: _Optional[_Iterable[_Union[Histogram, _Mapping]]] = ...) -> None: ...

"""Value types of the comparison queries: columns, filters, sorts, and what the queries answer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from tracker_server.domain.model import HParamValue, RunStatus

ColumnKind = Literal["hparam", "metric"]
ValueType = Literal["number", "string", "bool"]
MetricValue = Literal["last", "min", "max"]
Aggregate = Literal["mean", "median", "min", "max", "std"]
METRIC_VALUES: tuple[MetricValue, ...] = ("last", "min", "max")
AGGREGATES: tuple[Aggregate, ...] = ("mean", "median", "min", "max", "std")


@dataclass(frozen=True, slots=True)
class Column:
    kind: ColumnKind
    name: str


@dataclass(frozen=True, slots=True)
class Interval:
    """Numbers between ``min`` and ``max``; an end that is None is unbounded; ends are closed
    unless marked open. NaN lies in no interval."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.min is not None and (value < self.min or (self.min_open and value == self.min)):
            return False
        return not (self.max is not None and (value > self.max or (self.max_open and value == self.max)))


@dataclass(frozen=True, slots=True)
class Filter:
    """A test on one column. Hyperparameter filters apply to each run, metric filters to each
    group's aggregated value. With no test at all it only asks that the column be present."""

    column: Column
    interval: Interval | None = None
    one_of: tuple[HParamValue, ...] | None = None
    none_of: tuple[HParamValue, ...] | None = None
    regex: str | None = None
    include_missing: bool = False


@dataclass(frozen=True, slots=True)
class Sort:
    """NaN sorts after every number in both directions; missing values first or last as asked."""

    column: Column
    descending: bool = False
    missing_first: bool = False


@dataclass(frozen=True, slots=True)
class GroupQuery:
    project: str
    grouped: bool = True
    metric_value: MetricValue = "last"
    aggregate: Aggregate = "mean"
    filters: tuple[Filter, ...] = ()
    where: str = ""
    statuses: tuple[RunStatus, ...] = ()
    sort: tuple[Sort, ...] = ()
    offset: int = 0
    page_size: int = 100
    metrics: tuple[str, ...] | None = None
    ignore_hparams: tuple[str, ...] = ()  # they do not separate groups (e.g. "seed")


@dataclass(frozen=True, slots=True)
class HParamInfo:
    name: str
    type: ValueType
    domain: Interval | tuple[HParamValue, ...]
    domain_truncated: bool
    differs: bool
    run_count: int


@dataclass(frozen=True, slots=True)
class MetricInfo:
    tag: str
    run_count: int
    domain: Interval | None


@dataclass(frozen=True, slots=True)
class Experiment:
    project: str
    run_count: int
    hparams: tuple[HParamInfo, ...]
    metrics: tuple[MetricInfo, ...]


@dataclass(frozen=True, slots=True)
class Axis:
    column: Column
    type: ValueType
    domain: Interval | tuple[HParamValue, ...] | None
    domain_truncated: bool = False


@dataclass(frozen=True, slots=True)
class SessionRun:
    id: str
    name: str
    status: RunStatus
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class SessionGroup:
    key: str
    hparams: dict[str, HParamValue]
    metrics: dict[str, float]
    runs: tuple[SessionRun, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SessionGroups:
    axes: tuple[Axis, ...]
    groups: tuple[SessionGroup, ...]
    total: int


@dataclass(frozen=True, slots=True)
class HParamImportance:
    name: str
    correlation: float | None
    importance: float
    run_count: int


@dataclass(frozen=True, slots=True)
class ImportanceReport:
    metric: str
    hparams: tuple[HParamImportance, ...]
    run_count: int
    model_r2: float

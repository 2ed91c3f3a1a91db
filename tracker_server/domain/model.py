"""Domain values: frozen dataclasses, independent of gRPC and of SQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt

HParamValue = int | float | str | bool
RunStatus = Literal["running", "finished", "failed", "killed"]
SeriesKind = Literal["scalar", "histogram", "pr_curve", "text"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: str
    project: str
    name: str
    status: RunStatus
    hparams: dict[str, HParamValue]
    created_at: dt.datetime
    finished_at: dt.datetime | None
    custom_scalars: str | None = None
    created_by: str = ""  # the creating user's name; empty when unknown


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    name: str
    created_at: dt.datetime
    run_count: int


@dataclass(frozen=True, slots=True, eq=False)
class ScalarColumn:
    """The points of one tag in one batch. ``*_bytes`` are the little-endian wire bytes, stored as is."""

    tag: str
    steps: npt.NDArray[np.int64]
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    steps_bytes: bytes
    wall_times_bytes: bytes
    values_bytes: bytes


@dataclass(frozen=True, slots=True, eq=False)
class Histogram:
    step: int
    wall_time: float
    count: float
    min: float
    max: float
    sum: float
    sum_squares: float
    nan_count: float
    bucket_limits: npt.NDArray[np.float64]
    bucket_counts: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class PrCurve:
    """A precision-recall curve: ``data`` is 6 x num_thresholds (TP, FP, TN, FN, precision, recall)."""

    step: int
    wall_time: float
    num_thresholds: int
    data: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Text:
    step: int
    wall_time: float
    text: str


@dataclass(frozen=True, slots=True, eq=False)
class WriteBatch:
    """One unit of exactly-once delivery, as decoded from the wire (not yet validated)."""

    run_id: str
    writer_id: str
    seq: int
    scalars: tuple[ScalarColumn, ...]
    histograms: tuple[tuple[str, tuple[Histogram, ...]], ...]
    pr_curves: tuple[tuple[str, tuple[PrCurve, ...]], ...] = ()
    texts: tuple[tuple[str, tuple[Text, ...]], ...] = ()
    position: int = 0

    @property
    def points(self) -> int:
        return (
            sum(c.steps.size for c in self.scalars)
            + sum(len(h) for _, h in self.histograms)
            + sum(len(c) for _, c in self.pr_curves)
            + sum(len(t) for _, t in self.texts)
        )


@dataclass(frozen=True, slots=True)
class ScalarSummary:
    """See ``domain.summaries``. NaN-ignoring min/max are None when every value was NaN."""

    count: int
    last_step: int
    last_value: float
    last_wall_time: float
    min_value: float | None
    max_value: float | None
    first_nonfinite_step: int | None


@dataclass(frozen=True, slots=True)
class TagInfo:
    tag: str
    kind: SeriesKind
    count: int
    summary: ScalarSummary | None


@dataclass(frozen=True, slots=True, eq=False)
class ScalarSeries:
    """Points of one series ordered by step (equal steps in logged order); ``total_points`` counts
    the points in the requested range before any downsampling."""

    steps: npt.NDArray[np.int64]
    wall_times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]
    total_points: int = 0


@dataclass(frozen=True, slots=True)
class WriteResult:
    seq: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next_token`` is empty on the last page."""

    items: list[T]
    next_token: str

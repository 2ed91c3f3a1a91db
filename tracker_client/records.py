"""Plain, immutable records the client returns. Arrays are numpy; hyperparameters keep their types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

HParamValue = int | float | str | bool
RunStatus = Literal["running", "finished", "failed", "killed"]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run: one execution of a training script, identified by (project, name)."""

    id: str
    project: str
    name: str
    status: RunStatus
    hparams: dict[str, HParamValue]
    created_at: dt.datetime
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    name: str
    created_at: dt.datetime
    run_count: int


@dataclass(frozen=True, slots=True)
class ScalarSummary:
    """Maintained by the server as points arrive; reading it never scans the series.

    ``last_*`` is the point with the largest step (the later-logged one among equal steps);
    ``min_value``/``max_value`` ignore NaN and are None when every value is NaN;
    ``first_nonfinite_step`` is the smallest step holding NaN or +-Inf, None if all are finite.
    """

    count: int
    last_step: int
    last_value: float
    last_wall_time: float
    min_value: float | None
    max_value: float | None
    first_nonfinite_step: int | None


@dataclass(frozen=True, slots=True)
class TagRecord:
    tag: str
    kind: Literal["scalar", "histogram"]
    count: int
    summary: ScalarSummary | None


@dataclass(frozen=True, slots=True, eq=False)
class ScalarSeries:
    """Every point of one scalar tag, ordered by step (equal steps in the order they were logged)."""

    run_id: str
    tag: str
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    wall_times: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.steps.size)


@dataclass(frozen=True, slots=True, eq=False)
class Histogram:
    """A histogram summary of one tensor at one step, in TensorBoard's bucket layout.

    ``bucket_limits`` are right edges; the first bucket is empty and its limit is the left edge of
    the data. NaNs are in no bucket: ``bucket_counts.sum() + nan_count == count``. ``min``, ``max``,
    ``sum`` and ``sum_squares`` are over the values that are not NaN.
    """

    step: int
    wall_time: float
    count: float
    min: float
    max: float
    sum: float
    sum_squares: float
    bucket_limits: npt.NDArray[np.float64] = field(repr=False)
    bucket_counts: npt.NDArray[np.float64] = field(repr=False)
    nan_count: float = 0.0

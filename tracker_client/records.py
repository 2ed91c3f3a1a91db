"""Plain, immutable records the client returns. Arrays are numpy; hyperparameters keep their types."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

HParamValue = int | float | str | bool
RunStatus = Literal["running", "finished", "failed", "killed"]
SeriesKind = Literal["scalar", "histogram", "pr_curve", "text"]


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
    custom_scalars: dict[str, Any] | None = None
    created_by: str = ""  # the user whose token created the run ("local" without authentication)


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
    """A tag of a run: its kind, how many points (scalars) or entries (histograms, PR curves,
    texts) it holds, and for scalars the summary kept at ingest."""

    tag: str
    kind: SeriesKind
    count: int
    summary: ScalarSummary | None


@dataclass(frozen=True, slots=True, eq=False)
class ScalarSeries:
    """Points of one scalar tag, ordered by step (equal steps in the order they were logged): every
    point, or a downsampled selection of real points when ``max_points`` was given.
    ``total_points`` counts the points in the range before downsampling."""

    run_id: str
    tag: str
    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    wall_times: npt.NDArray[np.float64]
    total_points: int = 0

    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def downsampled(self) -> bool:
        return self.total_points > self.steps.size


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


# -- comparing runs ------------------------------------------------------------------------------

ValueType = Literal["number", "string", "bool"]
ColumnKind = Literal["hparam", "metric"]


@dataclass(frozen=True, slots=True)
class Interval:
    """Numbers between ``min`` and ``max`` (None: unbounded); ends closed unless marked open."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False


Domain = Interval | tuple[HParamValue, ...]


@dataclass(frozen=True, slots=True)
class HParamInfo:
    """A hyperparameter of a project: its type, the domain its values span (an Interval for numbers,
    the distinct values otherwise), whether it differs across runs, and how many runs have it."""

    name: str
    type: ValueType
    domain: Domain | None
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
    """The experiment schema of a project, as TensorBoard's HParams plugin infers it (but keeping
    hyperparameters that some runs lack)."""

    project: str
    run_count: int
    hparams: tuple[HParamInfo, ...]
    metrics: tuple[MetricInfo, ...]


@dataclass(frozen=True, slots=True)
class Axis:
    """One axis of a parallel-coordinates view."""

    kind: ColumnKind
    name: str
    type: ValueType
    domain: Domain | None


@dataclass(frozen=True, slots=True)
class SessionRun:
    """One run of a group, with its own metric values."""

    id: str
    name: str
    status: RunStatus
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class SessionGroup:
    """Runs with identical hyperparameters. ``metrics`` are aggregated over the runs having each
    metric (a NaN among them makes the aggregate NaN); ``runs`` are the run ids."""

    key: str
    hparams: dict[str, HParamValue]
    metrics: dict[str, float]
    runs: tuple[str, ...]
    sessions: tuple[SessionRun, ...]

    @property
    def count(self) -> int:
        return len(self.runs)


@dataclass(frozen=True, slots=True)
class SessionGroups:
    axes: tuple[Axis, ...]
    groups: tuple[SessionGroup, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter for ``Api.session_groups``: an interval (``min``/``max``), ``one_of``, ``none_of`` or
    a ``regex`` (re.search, string hyperparameters) on a hyperparameter (applied to each run) or a
    metric (applied to each group's aggregate). Runs or groups lacking the column are dropped
    unless ``include_missing``."""

    name: str
    kind: ColumnKind = "hparam"
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    one_of: tuple[HParamValue, ...] | None = None
    none_of: tuple[HParamValue, ...] | None = None
    regex: str | None = None
    include_missing: bool = False


@dataclass(frozen=True, slots=True)
class Sort:
    """Sort groups by a metric (default) or a hyperparameter. NaN comes after every number in both
    directions; missing values last unless ``missing_first``."""

    name: str
    kind: ColumnKind = "metric"
    descending: bool = False
    missing_first: bool = False


@dataclass(frozen=True, slots=True)
class HParamImportance:
    """``correlation``: Spearman rank correlation with the metric (None for strings or when undefined);
    ``importance``: permutation importance in a random forest, normalised to sum to 1."""

    name: str
    correlation: float | None
    importance: float
    run_count: int


@dataclass(frozen=True, slots=True)
class Importance:
    metric: str
    hparams: tuple[HParamImportance, ...]
    run_count: int
    model_r2: float


BASIS_POINTS = (0, 668, 1587, 3085, 5000, 6915, 8413, 9332, 10000)


@dataclass(frozen=True, slots=True, eq=False)
class Distribution:
    """A histogram as TensorBoard's distributions view shows it: ``values[i]`` is the value below
    which ``BASIS_POINTS[i] / 10000`` of the values lie: the minimum, -1.5σ, -1σ, -0.5σ, the median,
    +0.5σ, +1σ, +1.5σ and the maximum for a normal distribution."""

    step: int
    wall_time: float
    values: npt.NDArray[np.float64]
    count: float
    nan_count: float


@dataclass(frozen=True, slots=True, eq=False)
class PrCurve:
    """A precision-recall curve at one step, as TensorBoard computes it: per threshold
    ``thresholds[i] = i / (num_thresholds - 1)``, the counts of true/false positives/negatives
    and the precision and recall."""

    step: int
    wall_time: float
    thresholds: npt.NDArray[np.float64] = field(repr=False)
    true_positives: npt.NDArray[np.float64] = field(repr=False)
    false_positives: npt.NDArray[np.float64] = field(repr=False)
    true_negatives: npt.NDArray[np.float64] = field(repr=False)
    false_negatives: npt.NDArray[np.float64] = field(repr=False)
    precision: npt.NDArray[np.float64] = field(repr=False)
    recall: npt.NDArray[np.float64] = field(repr=False)

    @property
    def num_thresholds(self) -> int:
        return int(self.thresholds.size)


@dataclass(frozen=True, slots=True)
class TextRecord:
    """A text summary at one step (plain text or Markdown, as logged)."""

    step: int
    wall_time: float
    text: str

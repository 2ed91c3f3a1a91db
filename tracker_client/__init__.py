"""Tracker client: log scalars, hyperparameters and histograms from a training loop; read them back.

    import tracker_client as tracker
    run = tracker.init(project="mnist", name="lr=0.01", hparams={"lr": 0.01})
    run.log({"train/loss": 0.42}, step=10)
    run.finish()
    tracker.Api().scalars(run.id, "train/loss").values

Needs only grpcio, protobuf and numpy; importing it never imports the server's dependencies.
"""

from tracker_client.api import Api
from tracker_client.errors import (
    DeadlineExceededError,
    DeliveryError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    TrackerError,
    UnauthenticatedError,
    UnavailableError,
)
from tracker_client.records import (
    BASIS_POINTS,
    Axis,
    Distribution,
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
    ScalarSeries,
    ScalarSummary,
    SessionGroup,
    SessionGroups,
    SessionRun,
    Sort,
    TagRecord,
    TextRecord,
)
from tracker_client.run import Run, init
from tracker_client.summary_writer import SummaryWriter

__all__ = [
    "BASIS_POINTS",
    "Api",
    "Axis",
    "DeadlineExceededError",
    "DeliveryError",
    "Distribution",
    "Experiment",
    "FailedPreconditionError",
    "Filter",
    "HParamImportance",
    "HParamInfo",
    "Histogram",
    "Importance",
    "Interval",
    "InvalidArgumentError",
    "MetricInfo",
    "NotFoundError",
    "PermissionDeniedError",
    "PrCurve",
    "ProjectRecord",
    "ResourceExhaustedError",
    "Run",
    "RunRecord",
    "ScalarSeries",
    "ScalarSummary",
    "SessionGroup",
    "SessionGroups",
    "SessionRun",
    "Sort",
    "SummaryWriter",
    "TagRecord",
    "TextRecord",
    "TrackerError",
    "UnauthenticatedError",
    "UnavailableError",
    "init",
]
__version__ = "0.1.0"

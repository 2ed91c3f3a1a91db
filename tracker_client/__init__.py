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
    Histogram,
    ProjectRecord,
    RunRecord,
    ScalarSeries,
    ScalarSummary,
    TagRecord,
)
from tracker_client.run import Run, init

__all__ = [
    "Api",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "Histogram",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProjectRecord",
    "ResourceExhaustedError",
    "Run",
    "RunRecord",
    "ScalarSeries",
    "ScalarSummary",
    "TagRecord",
    "TrackerError",
    "UnauthenticatedError",
    "UnavailableError",
    "init",
]
__version__ = "0.1.0"

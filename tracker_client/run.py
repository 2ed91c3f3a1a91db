"""``tracker.init()`` and the Run a training loop logs to.

``Run.log()`` does no I/O: it appends to per-tag columns under a lock (about a microsecond) and
returns. A Sender thread delivers the points in acknowledged batches. What can go wrong on the
caller's line is checked there (a tag name, a step, a value that is not a number), so a mistake
points at the line that made it; a delivery failure is raised on the caller's next call.
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import json
import math
import os
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import PointBuffer
from tracker_client.channel import DEFAULT_TIMEOUT, Connection
from tracker_client.config import resolve_project
from tracker_client.convert import STATUS_CODES, histogram_to_proto, pr_curve_to_proto, run_record
from tracker_client.errors import TrackerError
from tracker_client.histogram import Bins, histogram_problem, summarize
from tracker_client.hparams import flatten, to_proto_map
from tracker_client.pr_curve import pr_curve
from tracker_client.records import Histogram, RunRecord, RunStatus
from tracker_client.sender import Sender
from tracker_client.validation import MAX_STEP, name_problem, step_problem

# Wake the sender when this many points are buffered, rather than waiting for the next tick.
BATCH_POINTS = 100_000
FLUSH_INTERVAL = 1.0
FLUSH_TIMEOUT = 120.0


def _default_run_name() -> str:
    stamp = dt.datetime.now().strftime("%b%d_%H-%M-%S")
    return f"{stamp}_{socket.gethostname()}_{os.getpid()}"


def init(
    project: str | None = None,
    name: str | None = None,
    hparams: Mapping[str, Any] | None = None,
    *,
    server: str | None = None,
    token: str | None = None,
    flush_interval: float = FLUSH_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
) -> Run:
    """Create the run ``name`` in ``project`` (or resume it when it exists) and return it.

    ``project``, ``server`` and ``token`` default to TRACKER_PROJECT, TRACKER_SERVER (else
    127.0.0.1:6065) and TRACKER_TOKEN. ``name`` defaults to ``<Mon DD_HH-MM-SS>_<host>_<pid>``.
    ``hparams`` may nest (flattened with "."); values keep their type: int, float, str or bool.
    A resumed run continues auto-incremented steps after the largest step it holds.
    """
    project = resolve_project(project)
    name = name or _default_run_name()
    for kind, value in (("project", project), ("run name", name)):
        if (problem := name_problem(kind, value)) is not None:
            raise ValueError(problem)
    flat = flatten(hparams or {})
    connection = Connection(server, token=token, timeout=timeout)
    try:
        response = connection.call(
            connection.runs.CreateRun,
            pb.CreateRunRequest(project=project, name=name, hparams=to_proto_map(flat)),
        )
    except BaseException:
        connection.close()
        raise
    return Run(connection, response.run, next_step=response.next_step, flush_interval=flush_interval)


class Run:
    """A run being logged to. Use as a context manager, or call ``finish()`` (done at exit otherwise)."""

    def __init__(
        self,
        connection: Connection,
        run: pb.Run,
        *,
        next_step: int = 0,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self._connection = connection
        self._record = run_record(run)
        self._buffer = PointBuffer()
        self._lock = self._buffer.lock
        self._known_tags: set[str] = set()
        self._step = next_step
        self._last_step = max(next_step - 1, 0)
        self._finished = False
        self._sender = Sender(connection, run_id=run.id, buffer=self._buffer, flush_interval=flush_interval)
        self._wake = self._sender.wake
        self._wake_is_set = self._sender.wake_is_set
        _live_runs.add(self)

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def project(self) -> str:
        return self._record.project

    @property
    def record(self) -> RunRecord:
        """The run as the server last described it."""
        return self._record

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, project={self.project!r}, name={self.name!r})"

    # -- logging -------------------------------------------------------------------------------

    def log(
        self, metrics: Mapping[str, Any], step: int | None = None, *, wall_time: float | None = None
    ) -> None:
        """Record scalar ``metrics`` (tag -> number) at ``step``.

        Without a step, the run's step auto-increments: one past the previous ``log()`` call's.
        Values may be Python or numpy numbers or 0-d tensors; NaN and +-Inf are kept.
        ``wall_time`` (seconds since the epoch) defaults to now.
        """
        if self._sender.failure is not None or self._finished:
            self._raise_unusable()
        if type(metrics) is not dict and not isinstance(metrics, Mapping):
            raise TypeError(f"log() takes a mapping of tag -> number, got {type(metrics).__name__}")
        keys = tuple(metrics)
        if wall_time is not None:
            wall_time = self._checked_wall_time(wall_time)
        buffer = self._buffer
        with self._lock:
            if step is None:
                step = self._step
            elif type(step) is not int or not 0 <= step <= MAX_STEP:
                step = self._checked_step(step)
            layout = buffer.last_layout if keys == buffer.last_keys else self._layout(keys)
            values = buffer.values
            mark = len(values)
            try:
                values.extend(metrics.values())
            except BaseException as exc:
                appended = len(values) - mark
                del values[mark:]  # all or nothing
                raise self._explain(metrics, appended, exc) from exc
            buffer.steps.append(step)
            buffer.wall_times.append(time.time() if wall_time is None else wall_time)
            buffer.layout_ids.append(layout)
            self._step = step + 1
            self._last_step = step
            buffer.points += len(keys)
            if buffer.points >= BATCH_POINTS and not self._wake_is_set():
                self._wake()

    def log_histogram(
        self,
        tag: str,
        values: Any,
        step: int | None = None,
        *,
        bins: Bins = "tensorflow",
        max_bins: int | None = None,
        wall_time: float | None = None,
    ) -> None:
        """Record a histogram summary of ``values`` (numpy, anything with ``__array__``, or a tensor).

        The summary is computed here with numpy, in TensorBoard's bucket layout by default
        (``bins`` accepts any numpy bins argument; ``max_bins`` merges buckets). Without a step,
        it lands on the step of the latest ``log()`` call, so it lines up with those scalars.
        """
        self._check_entry(tag)
        summary = summarize(values, step=0, wall_time=0.0, bins=bins, max_bins=max_bins)
        self._add_entry(
            "histograms",
            tag,
            step,
            wall_time,
            lambda s, w: histogram_to_proto(dataclasses.replace(summary, step=s, wall_time=w)),
        )

    def log_histogram_summary(self, tag: str, histogram: Histogram) -> None:
        """Record an already-computed histogram summary as it is (its own step and wall time).

        Its buckets must add up: ``bucket_counts.sum() + nan_count == count`` (ValueError otherwise).
        """
        self._check_entry(tag)
        problem = histogram_problem(histogram)
        if problem is not None:
            raise ValueError(f"histogram {tag!r}: {problem}")
        step = self._checked_step(histogram.step)
        self._add_entry(
            "histograms",
            tag,
            step,
            histogram.wall_time,
            lambda s, w: histogram_to_proto(dataclasses.replace(histogram, step=s, wall_time=w)),
        )

    def log_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        *,
        wall_time: float | None = None,
    ) -> None:
        """Record a precision-recall curve computed here with TensorBoard's math (numpy): for each
        of ``num_thresholds`` (at most 127) thresholds, TP, FP, TN, FN, precision and recall of
        ``predictions`` (in [0, 1]) against boolean ``labels``, optionally ``weights``."""
        self._check_entry(tag)
        data = pr_curve(labels, predictions, num_thresholds=num_thresholds, weights=weights)
        self._add_entry("pr_curves", tag, step, wall_time, lambda s, w: pr_curve_to_proto(s, w, data))

    def log_pr_curve_data(
        self, tag: str, data: Any, step: int | None = None, *, wall_time: float | None = None
    ) -> None:
        """Record a precision-recall curve given as its 6 x num_thresholds rows (TP, FP, TN, FN,
        precision, recall), e.g. from ``tracker_client.pr_curve.pr_curve_raw``."""
        self._check_entry(tag)
        rows = np.asarray(data, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[0] != 6 or rows.shape[1] < 1:
            raise ValueError(
                f"PR curve {tag!r} needs 6 rows of num_thresholds values, got shape {rows.shape}"
            )
        self._add_entry("pr_curves", tag, step, wall_time, lambda s, w: pr_curve_to_proto(s, w, rows))

    def log_text(
        self, tag: str, text: str, step: int | None = None, *, wall_time: float | None = None
    ) -> None:
        """Record a text summary (plain text or Markdown) at ``step`` (default: the latest log() step)."""
        self._check_entry(tag)
        if not isinstance(text, str):
            raise TypeError(f"text of {tag!r} must be a str, got {type(text).__name__}")
        if "\x00" in text:
            raise ValueError(f"text of {tag!r} contains a NUL character")
        self._add_entry("texts", tag, step, wall_time, lambda s, w: pb.Text(step=s, wall_time=w, text=text))

    def set_custom_scalars(self, layout: Mapping[str, Any]) -> None:
        """Store a custom-scalars layout with the run (TensorBoard's format:
        ``{category: {title: ["Multiline", [tags]] | ["Margin", [value, lower, upper]]}}``)."""
        if self._sender.failure is not None or self._finished:
            self._raise_unusable()
        response = self._connection.call(
            self._connection.runs.SetCustomScalars,
            pb.SetCustomScalarsRequest(run_id=self.id, layout=json.dumps(layout, sort_keys=True)),
        )
        self._record = run_record(response.run)

    def purge_steps(self, from_step: int) -> int:
        """Delete everything this run holds at or after ``from_step`` (TensorBoard's purge_step,
        for a job restarted from a checkpoint); returns how many points and entries went. Points
        still buffered here are delivered first."""
        self.flush()
        response = self._connection.call(
            self._connection.runs.PurgeSteps, pb.PurgeStepsRequest(run_id=self.id, from_step=from_step)
        )
        with self._lock:
            self._step = min(self._step, from_step)
        return int(response.removed)

    def _check_entry(self, tag: str) -> None:
        if self._sender.failure is not None or self._finished:
            self._raise_unusable()
        if (problem := name_problem("tag", tag)) is not None:
            raise ValueError(problem)

    def _add_entry(
        self,
        field: str,
        tag: str,
        step: int | None,
        wall_time: float | None,
        make: Callable[[int, float], Any],
    ) -> None:
        """Buffer a histogram, PR curve or text at ``step`` (default: the latest log() step)."""
        if step is not None:
            step = self._checked_step(step)
        if wall_time is not None:
            wall_time = self._checked_wall_time(wall_time)
        with self._lock:
            entry = make(
                self._last_step if step is None else step, time.time() if wall_time is None else wall_time
            )
            self._buffer.add_entry(field, tag, entry)

    def log_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Set hyperparameters (merged into the run's; types kept). Sent at once, synchronously."""
        if self._sender.failure is not None or self._finished:
            self._raise_unusable()
        flat = flatten(hparams)
        for name in flat:
            if (problem := name_problem("hyperparameter name", name)) is not None:
                raise ValueError(problem)
        response = self._connection.call(
            self._connection.runs.SetHParams,
            pb.SetHParamsRequest(run_id=self.id, hparams=to_proto_map(flat)),
        )
        self._record = run_record(response.run)

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Return once everything logged so far is committed by the server; raise what went wrong.

        After ``finish()`` there is nothing left to deliver and it returns at once.
        """
        if self._finished:
            return
        self._sender.flush(timeout)

    def finish(self, status: RunStatus = "finished", *, timeout: float = FLUSH_TIMEOUT) -> None:
        """Deliver everything, then mark the run ``status`` ("finished", "failed" or "killed").

        Calling it again does nothing. A delivery failure is raised after the run is marked.
        """
        if self._finished:
            return
        if status not in ("finished", "failed", "killed"):
            raise ValueError(f"status must be 'finished', 'failed' or 'killed', got {status!r}")
        self._finished = True
        _live_runs.discard(self)
        failure: TrackerError | None = None
        try:
            self._sender.close(timeout)
        except TrackerError as exc:
            failure = exc
        try:
            code = STATUS_CODES["failed" if failure is not None else status]
            response = self._connection.call(
                self._connection.runs.FinishRun, pb.FinishRunRequest(run_id=self.id, status=code)
            )
            self._record = run_record(response.run)
        finally:
            self._connection.close()
        if failure is not None:
            raise failure

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.finish()
            return
        try:
            self.finish("killed" if issubclass(exc_type, KeyboardInterrupt) else "failed")
        except TrackerError as error:  # the block's own exception is the one to see: report, don't replace
            print(f"tracker: run {self.name!r} could not be finished cleanly: {error}", file=sys.stderr)

    # -- helpers off the hot path --------------------------------------------------------------

    def _raise_unusable(self) -> None:
        if self._sender.failure is not None:
            raise self._sender.failure
        raise TrackerError(f"run {self.name!r} is finished; resume it with tracker.init(project, name)")

    def _checked_step(self, step: Any) -> int:
        if (problem := step_problem(step)) is not None:
            not_an_integer = isinstance(step, bool) or not hasattr(step, "__index__")
            raise (TypeError if not_an_integer else ValueError)(problem)
        return int(step.__index__())

    @staticmethod
    def _checked_wall_time(wall_time: Any) -> float:
        """``wall_time`` as a float, checked here so a bad one fails on the caller's line, not the batch."""
        if isinstance(wall_time, bool) or (
            not isinstance(wall_time, (int, float)) and not hasattr(wall_time, "__float__")
        ):
            raise TypeError(f"wall_time must be seconds since the epoch, got {type(wall_time).__name__}")
        seconds = float(wall_time)
        if not math.isfinite(seconds):
            raise ValueError(f"wall_time must be finite, got {seconds}")
        return seconds

    def _layout(self, keys: tuple[Any, ...]) -> int:
        """Register a new combination of tags, checking each tag's name the first time it is seen."""
        for tag in keys:
            if tag not in self._known_tags:
                if (problem := name_problem("tag", tag)) is not None:
                    raise ValueError(problem)
                self._known_tags.add(tag)
        return self._buffer.layout(keys)

    @staticmethod
    def _explain(metrics: Mapping[str, Any], count: int, exc: BaseException) -> BaseException:
        if isinstance(exc, TypeError | OverflowError):
            tag, value = list(metrics.items())[count]
            return type(exc)(f"value of {tag!r} must be a real number, got {type(value).__name__}: {exc}")
        return exc


# -- runs still open at interpreter exit ---------------------------------------------------------

_live_runs: weakref.WeakSet[Run] = weakref.WeakSet()
_uncaught = threading.Event()
_previous_excepthook = sys.excepthook


def _note_uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    _uncaught.set()
    _previous_excepthook(exc_type, exc, tb)


def _finish_live_runs() -> None:
    """At exit, deliver and mark every run the script left open (failed if it died of an exception)."""
    timeout = float(os.environ.get("TRACKER_EXIT_TIMEOUT", FLUSH_TIMEOUT))
    for run in list(_live_runs):
        try:
            run.finish("failed" if _uncaught.is_set() else "finished", timeout=timeout)
        except Exception as exc:
            print(f"tracker: could not finish run {run.name!r}: {exc}", file=sys.stderr)


sys.excepthook = _note_uncaught
atexit.register(_finish_live_runs)

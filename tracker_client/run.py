"""``tracker.init()`` and the Run a training loop logs to.

``Run.log()`` does no I/O: it appends to per-tag columns under a lock (about a microsecond) and
returns. A Sender thread delivers the points in acknowledged batches, retrying through server
restarts and network trouble, spilling to a spool file on disk past a memory budget. What can go
wrong on the caller's line is checked there (a tag name, a step, a value that is not a number), so
a mistake points at the line that made it; delivery problems never stop the training loop and are
reported by ``flush()`` and ``finish()``. Offline (``mode="offline"``), everything goes to the
spool file for ``tracker sync``.
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
import uuid
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import PointBuffer
from tracker_client.channel import DEFAULT_TIMEOUT, Connection
from tracker_client.config import DEFAULT_MAX_MEMORY, Mode, resolve_max_memory, resolve_mode, resolve_project
from tracker_client.convert import STATUS_CODES, histogram_to_proto, pr_curve_to_proto, run_record
from tracker_client.delivery import DeliveryStats
from tracker_client.errors import DeliveryError, TrackerError, UnavailableError
from tracker_client.histogram import Bins, histogram_problem, summarize
from tracker_client.hparams import flatten, to_proto_map
from tracker_client.pr_curve import pr_curve
from tracker_client.records import Histogram, RunRecord, RunStatus
from tracker_client.sender import Sender
from tracker_client.spool import Kind, start_record
from tracker_client.validation import MAX_STEP, name_problem, step_problem

# Wake the sender when this many points are buffered, rather than waiting for the next tick.
BATCH_POINTS = 100_000
FLUSH_INTERVAL = 1.0
FLUSH_TIMEOUT = 120.0
EXIT_TIMEOUT = 60.0
MAX_LAYOUT_BYTES = 64 * 1024  # the server's limit on a custom-scalars layout


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
    mode: Mode | None = None,
    flush_interval: float = FLUSH_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    max_memory: int | None = None,
    tls_ca: str | Path | None = None,
) -> Run:
    """Create the run ``name`` in ``project`` (or resume it when it exists) and return it.

    ``project``, ``server`` and ``token`` default to TRACKER_PROJECT, TRACKER_SERVER (else
    127.0.0.1:6065) and TRACKER_TOKEN. ``name`` defaults to ``<Mon DD_HH-MM-SS>_<host>_<pid>``.
    ``hparams`` may nest (flattened with "."); values keep their type: int, float, str or bool.
    A resumed run continues auto-incremented steps after the largest step it holds.

    ``mode`` (else TRACKER_MODE, else "online"): "offline" talks to no server; everything is
    written to a spool file, uploaded later by ``tracker sync``. ``timeout`` bounds every call and
    the wait for each batch's acknowledgement. ``max_memory`` (bytes; else TRACKER_MAX_MEMORY_MB,
    else 256 MiB) bounds what waits for delivery in memory; beyond it, it waits on disk.
    ``tls_ca`` (else TRACKER_TLS_CA) is the PEM file of the CA that signed a TLS server's
    certificate; an ``https://HOST:PORT`` server address uses the system's CAs instead.
    """
    project = resolve_project(project)
    name = name or _default_run_name()
    for kind, value in (("project", project), ("run name", name)):
        if (problem := name_problem(kind, value)) is not None:
            raise ValueError(problem)
    flat = flatten(hparams or {})
    mode = resolve_mode(mode)
    options = RunOptions(
        flush_interval=flush_interval, ack_timeout=timeout, max_memory=resolve_max_memory(max_memory)
    )
    if mode == "offline":
        run = Run(None, _offline_record(project, name), options=options)
        if flat:
            run.log_hparams(flat)
        return run
    connection = Connection(server, token=token, timeout=timeout, tls_ca=tls_ca)
    try:
        response = connection.call(
            connection.runs.CreateRun,
            pb.CreateRunRequest(project=project, name=name, hparams=to_proto_map(flat)),
        )
    except UnavailableError as error:
        connection.close()
        raise UnavailableError(
            f"{error} To log without a server now and upload later, use "
            'tracker.init(..., mode="offline") (or TRACKER_MODE=offline) and `tracker sync`.'
        ) from None
    except BaseException:
        connection.close()
        raise
    return Run(connection, run_record(response.run), next_step=response.next_step, options=options)


def _offline_record(project: str, name: str) -> RunRecord:
    return RunRecord(
        id=f"offline-{uuid.uuid4().hex[:16]}",
        project=project,
        name=name,
        status="running",
        hparams={},
        created_at=dt.datetime.now(dt.UTC),
        finished_at=None,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class RunOptions:
    flush_interval: float = FLUSH_INTERVAL
    ack_timeout: float = DEFAULT_TIMEOUT
    max_memory: int = DEFAULT_MAX_MEMORY


class Run:
    """A run being logged to. Use as a context manager, or call ``finish()`` (done at exit otherwise)."""

    def __init__(
        self,
        connection: Connection | None,
        record: RunRecord,
        *,
        next_step: int = 0,
        options: RunOptions = RunOptions(),
    ) -> None:
        self._connection = connection
        self._record = record
        self._buffer = PointBuffer()
        self._lock = self._buffer.lock
        self._known_tags: set[str] = set()
        self._step = next_step
        self._last_step = max(next_step - 1, 0)
        self._finished = False
        self._timeout = options.ack_timeout
        writer_id = uuid.uuid4().hex
        start = start_record(
            writer_id=writer_id,
            project=record.project,
            name=record.name,
            run_id=None if connection is None else record.id,
            server=None if connection is None else connection.server,
        )
        self._sender = Sender(
            connection,
            run_id="" if connection is None else record.id,
            writer_id=writer_id,
            buffer=self._buffer,
            start=start,
            flush_interval=options.flush_interval,
            ack_timeout=options.ack_timeout,
            max_memory=options.max_memory,
            batch_points=BATCH_POINTS,
            label=repr(record.name),
        )
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
        if self._finished:
            self._raise_finished()
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
        if self._finished:
            self._raise_finished()
        text = json.dumps(layout, sort_keys=True)
        if len(text.encode()) > MAX_LAYOUT_BYTES:
            raise ValueError(f"the custom-scalars layout is over {MAX_LAYOUT_BYTES:,} bytes as JSON")
        self._call(Kind.CUSTOM_SCALARS, pb.SetCustomScalarsRequest(run_id=self._run_id, layout=text))

    def purge_steps(self, from_step: int) -> int | None:
        """Delete everything this run holds at or after ``from_step`` (TensorBoard's purge_step,
        for a job restarted from a checkpoint); returns how many points and entries went. None
        offline (the purge happens at ``tracker sync``, in order with what was logged) or when the
        server did not answer in time (it happens once it does)."""
        if self._finished:
            self._raise_finished()
        step = self._checked_step(from_step)
        done = self._call(Kind.PURGE, pb.PurgeStepsRequest(run_id=self._run_id, from_step=step))
        with self._lock:
            self._step = min(self._step, step)
        return self._sender.purged if done and not self._sender.offline else None

    def _check_entry(self, tag: str) -> None:
        if self._finished:
            self._raise_finished()
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
        """Set hyperparameters (merged into the run's; types kept), in order with what was logged."""
        if self._finished:
            self._raise_finished()
        flat = flatten(hparams)
        for name in flat:
            if (problem := name_problem("hyperparameter name", name)) is not None:
                raise ValueError(problem)
        self._call(Kind.HPARAMS, pb.SetHParamsRequest(run_id=self._run_id, hparams=to_proto_map(flat)))

    def _call(self, kind: Kind, request: Any) -> bool:
        """Queue a call in order with what was logged and wait (``timeout``) for the server's
        answer; False, with a notice, if it did not come (the call stays queued, or is kept in the
        spool file with everything else)."""
        ticket = self._sender.call(kind, request)
        try:
            self._sender.wait(ticket, self._timeout, what=kind.name.lower())
        except DeliveryError as error:
            print(f"tracker: run {self.name!r}: {error}", file=sys.stderr)
            return False
        if self._sender.run is not None:
            self._record = run_record(self._sender.run)
        return True

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Return once everything logged so far is committed by the server (offline: written to the
        spool file). Raise DeliveryError if that takes longer than ``timeout`` seconds or the
        server refused the run's data; nothing is lost, delivery goes on in the background.

        After ``finish()`` there is nothing left to deliver and it returns at once.
        """
        if self._finished:
            return
        self._sender.wait(self._sender.flush_ticket(), timeout)

    def delivery_stats(self) -> DeliveryStats:
        """Counts of what was delivered, reconnects, and recent acknowledgement latencies."""
        return self._sender.stats

    def finish(self, status: RunStatus = "finished", *, timeout: float = FLUSH_TIMEOUT) -> None:
        """Deliver everything, then mark the run ``status`` ("finished", "failed" or "killed").

        Calling it again does nothing. If not everything reaches the server within ``timeout``
        seconds, the rest is kept in a spool file and DeliveryError says which and how to upload
        it (``tracker sync``). An offline run's spool file is complete once this returns.
        """
        if self._finished:
            return
        if status not in ("finished", "failed", "killed"):
            raise ValueError(f"status must be 'finished', 'failed' or 'killed', got {status!r}")
        self._finished = True
        _live_runs.discard(self)
        self._sender.call(Kind.FINISH, pb.FinishRunRequest(run_id=self._run_id, status=STATUS_CODES[status]))
        try:
            path = self._sender.close(timeout)
        finally:
            if self._connection is not None:
                self._connection.close()
        if path is None:
            if self._sender.run is not None:
                self._record = run_record(self._sender.run)
            return
        if self._sender.offline:
            self._record = dataclasses.replace(self._record, status=status)
            print(
                f"tracker: offline run {self.name!r} is saved in {path}; upload it with:\n"
                f"    tracker sync {path}",
                file=sys.stderr,
            )
            return
        stats = self._sender.stats
        reason = self._sender.failure or self._sender.last_error
        error = DeliveryError(
            f"run {self.name!r} (project {self.project!r}) could not deliver everything to "
            f"{self._connection.server if self._connection else ''}"
            f"{f' ({reason})' if reason else ''}; {stats.points_acked:,} points were acknowledged. "
            f"The rest is kept in {path}; upload it with:\n    tracker sync {path}"
        )
        error.spool_path = path
        raise error

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

    @property
    def _run_id(self) -> str:
        """The id written into requests: empty offline, where ``tracker sync`` fills it in."""
        return "" if self._sender.offline else self.id

    def _raise_finished(self) -> None:
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
    """At exit, deliver and mark every run the script left open (failed if it died of an
    exception), for at most TRACKER_EXIT_TIMEOUT seconds (default 60) each; what is left is kept
    in a spool file and the command that uploads it is printed."""
    timeout = float(os.environ.get("TRACKER_EXIT_TIMEOUT", EXIT_TIMEOUT))
    for run in list(_live_runs):
        try:
            run.finish("failed" if _uncaught.is_set() else "finished", timeout=timeout)
        except Exception as exc:
            print(f"tracker: {exc}", file=sys.stderr)


sys.excepthook = _note_uncaught
atexit.register(_finish_live_runs)

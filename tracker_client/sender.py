"""The sender: a run's daemon thread that turns what was logged into records and delivers them.

Every ``flush_interval`` (or when the buffer holds a full batch, or on ``flush()``) the buffer
is drained into numbered batches. Batches and the run's calls (hyperparameters, layouts, purges,
finish) form one ordered stream of records: the outbox (memory, then the spool file past a
budget) holds them until the server has them. Batches go through a ``Delivery``; a call waits
until every batch before it is acknowledged, then is made as a unary call. Transient failures
are retried with backoff for as long as the process lives; a permanent one parks the outbox on
disk. The training loop is never blocked or stopped by any of it: ``flush()`` and ``finish()``
are where delivery problems are reported.

An offline run has the same sender without a connection: its outbox is parked from the start,
so every record goes straight to the spool file for ``tracker sync``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import EncodedBatch, PointBuffer, encode_batches
from tracker_client.channel import Connection
from tracker_client.delivery import Backoff, Delivery, DeliveryStats, is_transient
from tracker_client.errors import DeliveryError, TrackerError
from tracker_client.outbox import Outbox
from tracker_client.spool import Kind, Record

# How long a delivery problem lasts before the sender says so on stderr.
NOTICE_AFTER = 10.0


# The RunService method and request message of each kind of call record.
CALLS: dict[Kind, tuple[str, type[Any]]] = {
    Kind.HPARAMS: ("SetHParams", pb.SetHParamsRequest),
    Kind.CUSTOM_SCALARS: ("SetCustomScalars", pb.SetCustomScalarsRequest),
    Kind.PURGE: ("PurgeSteps", pb.PurgeStepsRequest),
    Kind.FINISH: ("FinishRun", pb.FinishRunRequest),
}


def batch_record(batch: EncodedBatch) -> Record:
    return Record(Kind.BATCH, batch.seq, batch.payload, batch.points)


class Sender:
    """Drains a PointBuffer into records and delivers them in order (see the module docstring)."""

    def __init__(
        self,
        connection: Connection | None,
        *,
        run_id: str,
        writer_id: str,
        buffer: PointBuffer,
        start: Record,
        flush_interval: float = 1.0,
        window: int = 8,
        ack_timeout: float = 30.0,
        max_memory: int = 256 * 1024 * 1024,
        spool_dir: Path | None = None,
        batch_points: int = 100_000,
        label: str = "",
    ) -> None:
        self.writer_id = writer_id
        self._connection = connection
        self._run_id = run_id
        self._buffer = buffer
        self._flush_interval = flush_interval
        self._batch_points = batch_points
        self._label = label or run_id
        self._wake = threading.Event()
        self._cv = threading.Condition()
        self._intake_lock = threading.Lock()
        self._intake: list[Record] = []
        self._next_seq = 1
        self._made = 0  # records made (intake), under _intake_lock
        self._done = 0  # records delivered (or spooled, offline), under _cv
        self._durable_wanted = False
        self._closing = False
        self._stopped = False
        self.failure: TrackerError | None = None
        self.run: pb.Run | None = None  # the run as the latest call's answer described it
        self.purged: int = 0  # points and entries removed by the latest purge
        self._outbox = Outbox(start, max_memory=max_memory, directory=spool_dir)
        self._delivery: Delivery | None = None
        if connection is None:
            self._outbox.park(())
        else:
            self._delivery = Delivery(
                connection,
                name=f"tracker-acks-{run_id}",
                window=window,
                ack_timeout=ack_timeout,
                on_ack=self._acked,
                on_change=self._wake.set,
            )
        self._backoff = Backoff()
        self._call_retry_at = 0.0
        self._trouble_since: float | None = None
        self._noticed = False
        self._thread = threading.Thread(target=self._loop, name=f"tracker-sender-{run_id}", daemon=True)
        self._thread.start()

    @property
    def wake(self) -> Callable[[], None]:
        return self._wake.set

    @property
    def wake_is_set(self) -> Callable[[], bool]:
        return self._wake.is_set

    @property
    def offline(self) -> bool:
        return self._delivery is None

    @property
    def spool_path(self) -> Path | None:
        return self._outbox.spool_path

    @property
    def last_error(self) -> TrackerError | None:
        """The latest transient failure, while delivery is retrying."""
        return self._delivery.last_error if self._delivery is not None else None

    @property
    def stats(self) -> DeliveryStats:
        return self._delivery.stats if self._delivery is not None else DeliveryStats()

    # -- caller side ---------------------------------------------------------------------------

    def call(self, kind: Kind, request: Message) -> int:
        """Queue a call after everything logged so far; return its ticket for ``wait``."""
        with self._intake_lock:
            self._drain_locked()
            self._intake.append(Record(kind, self._next_seq - 1, request.SerializeToString()))
            self._made += 1
            ticket = self._made
        self._wake.set()
        return ticket

    def flush_ticket(self) -> int:
        """Make records of everything logged so far; return the ticket that covers them."""
        with self._intake_lock:
            self._drain_locked()
            ticket = self._made
        self._wake.set()
        return ticket

    def wait(self, ticket: int, timeout: float, *, what: str = "flush") -> None:
        """Return once every record up to ``ticket`` is delivered (offline: written to the spool
        file). Raise DeliveryError if that does not happen within ``timeout`` seconds, or if
        delivery stopped for good; nothing is lost either way."""
        with self._cv:
            if self.offline:
                self._durable_wanted = True
                self._wake.set()
            done = self._cv.wait_for(
                lambda: (self._done >= ticket and not self._durable_wanted) or self.failure is not None,
                timeout,
            )
        if self.failure is not None:
            raise self._undelivered(f"{what}: delivery stopped", cause=self.failure)
        if not done:
            raise self._undelivered(
                f"{what}: not everything was acknowledged by {self._server()} within {timeout:g}s; "
                "delivery goes on in the background",
                cause=self._delivery.last_error if self._delivery is not None else None,
            )

    def close(self, timeout: float) -> Path | None:
        """Deliver everything made so far within ``timeout`` seconds, then stop the threads.

        Returns None when everything was delivered; otherwise the spool file now holding the
        rest (``tracker sync`` delivers it).
        """
        ticket = self.flush_ticket()
        delivered = True
        if not self.offline:
            try:
                self.wait(ticket, timeout, what="finish")
            except DeliveryError:
                delivered = False
        with self._cv:
            self._closing = True
        self._wake.set()
        self._thread.join()
        if self._delivery is not None:
            if delivered and self.failure is None:
                with contextlib.suppress(TrackerError):
                    self._delivery.close(5.0)
            else:
                self._delivery.stop()
        return self._close_outbox(delivered and self.failure is None)

    def _close_outbox(self, delivered: bool) -> Path | None:
        if not delivered or self.offline:
            in_flight = self._delivery.unacked_batches() if self._delivery is not None else []
            self._outbox.park(batch_record(b) for b in in_flight)
        return self._outbox.close()

    # -- sender thread ---------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            last_drain = time.monotonic()
            while True:
                wait = self._flush_interval
                if self._call_retry_at:
                    wait = min(wait, max(0.0, self._call_retry_at - time.monotonic()))
                self._wake.wait(wait)
                self._wake.clear()
                with self._cv:
                    closing = self._closing
                now = time.monotonic()
                if (
                    closing
                    or now - last_drain >= self._flush_interval
                    or self._buffer.points >= self._batch_points
                ):
                    with self._intake_lock:
                        self._drain_locked()
                    last_drain = now
                self._take_intake()
                self._pump()
                self._report_trouble()
                if closing:
                    return
        except BaseException as exc:  # a bug here must reach the caller, not die with the thread
            self._fail(TrackerError(f"the sender thread failed: {exc!r}"))
            raise

    def _drain_locked(self) -> None:
        """Turn the buffer into batch records at the end of the intake (caller holds _intake_lock)."""
        columns, entries = self._buffer.drain()
        if not columns and not any(entries.values()):
            return
        batches = encode_batches(
            run_id=self._run_id,
            writer_id=self.writer_id,
            first_seq=self._next_seq,
            columns=columns,
            entries=entries,
        )
        self._intake.extend(batch_record(b) for b in batches)
        self._made += len(batches)
        self._next_seq += len(batches)

    def _take_intake(self) -> None:
        with self._intake_lock:
            records, self._intake = self._intake, []
        in_flight = self._in_flight
        for record in records:
            self._outbox.put(record, in_flight)
        if self.offline:
            with self._cv:
                durable, self._durable_wanted = self._durable_wanted, False
            self._outbox.flush(durable=durable)
            self._mark_done(len(records))

    def _in_flight(self) -> list[Record]:
        return [batch_record(b) for b in self._delivery.unacked_batches()] if self._delivery else []

    def _pump(self) -> None:
        """Hand records to delivery in order, as far as the window and the calls allow."""
        delivery = self._delivery
        if delivery is None or self._outbox.parked:
            return
        if delivery.failure is not None:
            self._fail(delivery.failure)
            return
        while (record := self._outbox.head()) is not None:
            if record.kind is Kind.BATCH:
                batch = EncodedBatch(record.seq, record.body, record.points)
                if not delivery.submit(batch, block=False):
                    return
            else:
                if delivery.unacked() or time.monotonic() < self._call_retry_at:
                    return
                if not self._make_call(record):
                    return
                self._mark_done(1)
            self._outbox.pop()

    def _make_call(self, record: Record) -> bool:
        """Make a queued call; False if it must wait for a retry or delivery parked."""
        assert self._connection is not None
        name, request = CALLS[record.kind]
        method = getattr(self._connection.runs, name)
        try:
            response = self._connection.call(method, request.FromString(record.body))
        except TrackerError as error:
            if is_transient(error):
                assert self._delivery is not None
                self._delivery.last_error = error
                self._call_retry_at = time.monotonic() + self._backoff.delay()
                self._note_trouble()
            else:
                self._fail(error)
            return False
        self._backoff.reset()
        self._call_retry_at = 0.0
        if isinstance(response, pb.PurgeStepsResponse):
            self.purged = int(response.removed)
        else:
            self.run = response.run
        return True

    def _acked(self, _batch: EncodedBatch) -> None:
        self._mark_done(1)

    def _mark_done(self, count: int) -> None:
        with self._cv:
            self._done += count
            self._cv.notify_all()
        self._trouble_since = None

    def _fail(self, failure: TrackerError) -> None:
        """Delivery cannot go on: keep every record on disk and say so once."""
        if self.failure is not None:  # only the sender thread sets it
            return
        if self._delivery is not None:
            self._delivery.stop()
        path = self._outbox.park(self._in_flight())
        self._outbox.flush()
        with self._cv:
            self.failure = failure
            self._cv.notify_all()
        print(
            f"tracker: run {self._label}: the server refused the run's data ({failure}). Training goes on; "
            f"everything logged is kept in {path} (upload it with `tracker sync {path}` once the "
            "problem is fixed).",
            file=sys.stderr,
        )

    def _note_trouble(self) -> None:
        if self._trouble_since is None:
            self._trouble_since = time.monotonic()

    def _report_trouble(self) -> None:
        delivery = self._delivery
        if delivery is None or self.failure is not None:
            return
        if delivery.last_error is not None and delivery.unacked():
            self._note_trouble()
        if self._trouble_since is None:
            if self._noticed:
                self._noticed = False
                print(f"tracker: run {self._label}: delivery to {self._server()} resumed.", file=sys.stderr)
            return
        if not self._noticed and time.monotonic() - self._trouble_since >= NOTICE_AFTER:
            self._noticed = True
            where = f"; waiting data is kept in {self.spool_path}" if self._outbox.on_disk else ""
            print(
                f"tracker: run {self._label}: cannot deliver to {self._server()} "
                f"({delivery.last_error}); retrying in the background, training goes on{where}.",
                file=sys.stderr,
            )

    def _server(self) -> str:
        return self._connection.server if self._connection is not None else "(offline)"

    def _undelivered(self, message: str, *, cause: TrackerError | None) -> DeliveryError:
        error = DeliveryError(message + (f" ({cause})" if cause is not None else ""))
        error.spool_path = self.spool_path
        error.__cause__ = cause
        return error

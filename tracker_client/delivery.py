"""Delivery: streams encoded batches to the server and releases each only when it is acknowledged.

Used by a run's sender, by ``tracker sync`` and by the TensorBoard importer. At most ``window``
batches are in flight; the server acks each ``(writer_id, seq)`` in order, after commit, and acks
a batch it committed before as a duplicate without applying it again. That ledger is what makes
resending safe, so every transient failure (the server restarting or draining, a reset or stalled
connection, a database outage answered with UNAVAILABLE, an acknowledgement overdue) is handled
the same way: wait a backoff, open a new stream, resend every unacknowledged batch. Only a
permanent failure (the server refused a batch as invalid, the run is gone) stops delivery; it is
kept in ``failure`` and raised to whoever submits or waits next.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import EncodedBatch
from tracker_client.channel import Connection
from tracker_client.errors import DeadlineExceededError, TrackerError, translate_rpc_error

# Codes after which the same request may succeed later. INTERNAL and UNKNOWN are included because
# gRPC reports some connection resets with them; a server bug answered with them is retried with
# backoff rather than losing data.
TRANSIENT_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


def is_transient(error: TrackerError) -> bool:
    return error.code in TRANSIENT_CODES


class Backoff:
    """Exponential backoff with jitter: each delay is uniform in [d/2, d], d doubling up to ``cap``."""

    def __init__(self, first: float = 0.05, cap: float = 5.0) -> None:
        self.first, self.cap = first, cap
        self._next = first

    def delay(self) -> float:
        d = self._next
        self._next = min(self.cap, d * 2)
        return random.uniform(d / 2, d)

    def reset(self) -> None:
        self._next = self.first


@dataclass
class DeliveryStats:
    """What a delivery did, for progress output and the load benchmark."""

    batches_acked: int = 0
    points_acked: int = 0
    duplicates: int = 0  # acks for batches the server had already committed (resends)
    reconnects: int = 0
    # Seconds from a batch's first send to its acknowledgement, for the most recent batches.
    ack_latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class _Pending:
    __slots__ = ("batch", "first_sent", "last_sent")

    def __init__(self, batch: EncodedBatch) -> None:
        self.batch = batch
        self.first_sent = 0.0
        self.last_sent = 0.0


class _Stream:
    """One open ``IngestService.Write`` call: an outbox feeding the request side, a thread reading acks."""

    def __init__(
        self,
        connection: Connection,
        *,
        on_ack: Callable[[_Stream, pb.WriteAck], None],
        on_end: Callable[[_Stream, grpc.RpcError | None], None],
        name: str,
    ) -> None:
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._call = connection.write_stream(self._requests(), metadata=connection.metadata)
        self._reader = threading.Thread(target=self._read, args=(on_ack, on_end), name=name, daemon=True)
        self._reader.start()

    def send(self, payload: bytes) -> None:
        self._outbox.put(payload)

    def close(self) -> None:
        """Half-close: the server acks what it has, then ends the call."""
        self._outbox.put(None)

    def cancel(self) -> None:
        self._call.cancel()
        self._outbox.put(None)

    def join(self, timeout: float | None) -> None:
        self._reader.join(timeout)

    def _requests(self) -> Iterator[bytes]:
        while (payload := self._outbox.get()) is not None:
            yield payload

    def _read(
        self,
        on_ack: Callable[[_Stream, pb.WriteAck], None],
        on_end: Callable[[_Stream, grpc.RpcError | None], None],
    ) -> None:
        error: grpc.RpcError | None = None
        try:
            for ack in self._call:
                on_ack(self, ack)
        except grpc.RpcError as exc:
            error = exc
        finally:
            self._outbox.put(None)  # never leave the request side blocked on an ended call
        on_end(self, error)


class Delivery:
    """Encoded batches in, acknowledgements out; at most ``window`` batches unacknowledged.

    A supervisor thread opens streams, reopens them after transient failures, and cancels a
    stream whose oldest batch waits more than ``ack_timeout`` seconds for its acknowledgement.
    ``on_ack(batch)`` is called, in order, for every batch acknowledged.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        name: str,
        window: int = 8,
        ack_timeout: float = 30.0,
        on_ack: Callable[[EncodedBatch], None] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.failure: TrackerError | None = None
        self.last_error: TrackerError | None = None  # the latest transient failure, for messages
        self.stats = DeliveryStats()
        self._connection = connection
        self._name = name
        self._window = window
        self._ack_timeout = ack_timeout
        self._on_ack = on_ack
        self._on_change = on_change
        self._cv = threading.Condition()
        self._unacked: deque[_Pending] = deque()
        self._acked_seq = 0
        self._stream: _Stream | None = None
        self._retry_at = 0.0
        self._backoff = Backoff()
        self._closing = False
        self._stopped = False
        self._supervisor = threading.Thread(target=self._supervise, name=f"{name}-stream", daemon=True)
        self._supervisor.start()

    @property
    def acked_seq(self) -> int:
        return self._acked_seq

    @property
    def server(self) -> str:
        return self._connection.server

    def has_room(self) -> bool:
        with self._cv:
            return len(self._unacked) < self._window

    def submit(self, batch: EncodedBatch, *, block: bool = True, timeout: float | None = None) -> bool:
        """Queue ``batch`` for sending. With ``block``, wait for room in the window (raising
        DeadlineExceededError after ``timeout`` seconds); without, return False at once when the
        window is full. False also when delivery has failed."""
        with self._cv:
            if block and not self._cv.wait_for(
                lambda: len(self._unacked) < self._window or self.failure is not None, timeout
            ):
                raise self.overdue(f"{len(self._unacked)} batches were not acknowledged")
            if self.failure is not None or len(self._unacked) >= self._window:
                return False
            pending = _Pending(batch)
            self._unacked.append(pending)
            if self._stream is not None:
                pending.first_sent = pending.last_sent = time.monotonic()
                self._stream.send(batch.payload)
            else:
                self._cv.notify_all()  # the supervisor opens a stream
        return True

    def unacked(self) -> int:
        with self._cv:
            return len(self._unacked)

    def unacked_batches(self) -> list[EncodedBatch]:
        with self._cv:
            return [p.batch for p in self._unacked]

    def wait_acked(self, seq: int, timeout: float | None) -> bool:
        """Wait until batch ``seq`` is acknowledged (True) or ``timeout`` passes (False); raise the
        failure if delivery failed."""
        with self._cv:
            done = self._cv.wait_for(lambda: self.failure is not None or self._acked_seq >= seq, timeout)
            self.raise_failure()
            return done

    def wait_all(self, timeout: float | None = None) -> None:
        """Wait until every batch submitted is acknowledged; raise the failure if delivery failed."""
        with self._cv:
            done = self._cv.wait_for(lambda: not self._unacked or self.failure is not None, timeout)
            self.raise_failure()
        if not done:
            raise self.overdue(f"{self.unacked()} batches were not acknowledged")

    def overdue(self, what: str) -> DeadlineExceededError:
        """The error for data still undelivered when time ran out, naming the last failure."""
        cause = f" (last error: {self.last_error})" if self.last_error is not None else ""
        return DeadlineExceededError(f"{what} by {self._connection.server} in time{cause}")

    def close(self, timeout: float | None = None) -> None:
        """Wait for every batch to be acknowledged, then end the stream and the supervisor."""
        self.wait_all(timeout)
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._supervisor.join(timeout)

    def stop(self) -> None:
        """Stop at once: cancel the stream, keep the unacknowledged batches (``unacked_batches``)."""
        with self._cv:
            self._stopped = True
            stream = self._stream
            self._cv.notify_all()
        if stream is not None:
            stream.cancel()

    cancel = stop

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def fail(self, failure: TrackerError) -> None:
        with self._cv:
            self._fail_locked(failure)

    # -- supervisor and stream callbacks ------------------------------------------------------------

    def _supervise(self) -> None:
        while True:
            with self._cv:
                now = time.monotonic()
                if self._stopped or self.failure is not None:
                    break
                if self._closing and not self._unacked:
                    stream, self._stream = self._stream, None
                    break
                stream = None
                if self._stream is None:
                    if self._unacked and now >= self._retry_at:
                        stream = self._open_locked()
                        if stream is None:
                            continue
                elif self._unacked and now - self._unacked[0].last_sent > self._ack_timeout:
                    self.last_error = DeadlineExceededError(
                        f"no acknowledgement from {self._connection.server} in {self._ack_timeout:g}s"
                    )
                    self._stream.cancel()  # its reader reports the end; then we reopen
                wait = min(1.0, self._ack_timeout / 4)
                if self._stream is None and self._unacked:
                    wait = min(wait, max(0.001, self._retry_at - now))
                self._cv.wait(wait)
        if stream is not None:  # closing: half-close and let the server end the call
            stream.close()
            stream.join(5.0)

    def _open_locked(self) -> _Stream | None:
        try:
            stream = _Stream(self._connection, on_ack=self._ack, on_end=self._end, name=self._name)
        except Exception as exc:  # pragma: no cover - channel creation failures are rare
            self._fail_locked(TrackerError(f"could not open the ingest stream: {exc!r}"))
            return None
        self._stream = stream
        now = time.monotonic()
        for pending in self._unacked:  # resend everything unacknowledged, in order
            if pending.first_sent == 0.0:
                pending.first_sent = now
            pending.last_sent = now
            stream.send(pending.batch.payload)
        return stream

    def _ack(self, stream: _Stream, ack: pb.WriteAck) -> None:
        on_ack = None
        with self._cv:
            if stream is not self._stream:
                return
            expected = self._unacked[0].batch.seq if self._unacked else None
            if ack.seq != expected:
                self._fail_locked(
                    TrackerError(f"the server acknowledged batch {ack.seq}, but batch {expected} was next")
                )
                return
            pending = self._unacked.popleft()
            self._acked_seq = ack.seq
            stats = self.stats
            stats.batches_acked += 1
            stats.points_acked += pending.batch.points
            stats.duplicates += ack.duplicate
            stats.ack_latencies.append(time.monotonic() - pending.first_sent)
            self._backoff.reset()
            self.last_error = None
            on_ack = self._on_ack
            self._cv.notify_all()
        if on_ack is not None:
            on_ack(pending.batch)
        if self._on_change is not None:
            self._on_change()

    def _end(self, stream: _Stream, error: grpc.RpcError | None) -> None:
        with self._cv:
            if stream is not self._stream:
                return
            self._stream = None
            if self._stopped or (self._closing and not self._unacked):
                self._cv.notify_all()
                return
            if error is None:
                if not self._unacked:  # ended cleanly with everything acked: reopen when needed
                    self._cv.notify_all()
                    return
                failure = TrackerError(
                    f"the server ended the stream with {len(self._unacked)} batches unacknowledged"
                )
                failure.code = grpc.StatusCode.UNAVAILABLE
            elif error.code() is grpc.StatusCode.CANCELLED and self.last_error is not None:
                failure = self.last_error  # we cancelled it: the acknowledgement was overdue
            else:
                failure = translate_rpc_error(error, server=self._connection.server)
            if is_transient(failure):
                self.last_error = failure
                self.stats.reconnects += 1
                self._retry_at = time.monotonic() + self._backoff.delay()
            else:
                self._fail_locked(failure)
            self._cv.notify_all()
        if self._on_change is not None:
            self._on_change()

    def _fail_locked(self, failure: TrackerError) -> None:
        if self.failure is None:
            self.failure = failure
        self._cv.notify_all()
        if self._on_change is not None:
            # Called with the lock held only here; callbacks must not call back into Delivery.
            self._on_change()

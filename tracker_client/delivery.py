"""Delivery: streams encoded batches to the server and releases each only when it is acknowledged.

Used by the sender thread of a ``Run`` and by the TensorBoard importer. At most ``window`` batches
are in flight; the server acks each ``(writer_id, seq)`` in order, after commit. The first failure
is kept and raised to whoever submits or waits next.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import EncodedBatch
from tracker_client.channel import Connection
from tracker_client.errors import DeadlineExceededError, TrackerError, translate_rpc_error


class _Stream:
    """One open ``IngestService.Write`` call: an outbox feeding the request side, a thread reading acks."""

    def __init__(
        self,
        connection: Connection,
        *,
        on_ack: Callable[[pb.WriteAck], None],
        on_end: Callable[[grpc.RpcError | None], None],
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

    def join(self, timeout: float | None) -> bool:
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def _requests(self) -> Iterator[bytes]:
        while (payload := self._outbox.get()) is not None:
            yield payload

    def _read(
        self, on_ack: Callable[[pb.WriteAck], None], on_end: Callable[[grpc.RpcError | None], None]
    ) -> None:
        error: grpc.RpcError | None = None
        try:
            for ack in self._call:
                on_ack(ack)
        except grpc.RpcError as exc:
            error = exc
        finally:
            self._outbox.put(None)  # never leave the request side blocked on an ended call
        on_end(error)


class Delivery:
    """Encoded batches in, acknowledgements out; at most ``window`` batches unacknowledged."""

    def __init__(self, connection: Connection, *, name: str, window: int = 8) -> None:
        self.failure: TrackerError | None = None
        self._connection = connection
        self._name = name
        self._window = window
        self._cv = threading.Condition()
        self._unacked: deque[EncodedBatch] = deque()
        self._acked_seq = 0
        self._stream: _Stream | None = None
        self._stream_ended = False
        self._on_failure: Callable[[], None] | None = None

    @property
    def acked_seq(self) -> int:
        return self._acked_seq

    def on_failure(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (once, from any thread) when delivery fails."""
        self._on_failure = callback

    def submit(self, batch: EncodedBatch) -> bool:
        """Send ``batch`` once fewer than ``window`` are in flight; False when delivery has failed."""
        with self._cv:
            self._cv.wait_for(lambda: len(self._unacked) < self._window or self.failure is not None)
            if self.failure is not None:
                return False
            self._unacked.append(batch)
            if self._stream is None or self._stream_ended:
                self._stream_ended = False
                self._stream = _Stream(
                    self._connection, on_ack=self._on_ack, on_end=self._on_end, name=self._name
                )
            stream = self._stream
        stream.send(batch.payload)
        return True

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
            raise DeadlineExceededError(
                f"{self.unacked()} batches were not acknowledged by {self._connection.server} in time"
            )

    def unacked(self) -> int:
        with self._cv:
            return len(self._unacked)

    def close(self, timeout: float | None = None) -> None:
        """Wait for every batch to be acknowledged, then end the stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            done = self._cv.wait_for(
                lambda: not self._unacked or self.failure is not None,
                None if deadline is None else max(0.0, deadline - time.monotonic()),
            )
            stream = self._stream
            self.raise_failure()
        if not done:
            raise DeadlineExceededError(
                f"{self.unacked()} batches were not acknowledged by {self._connection.server} in time"
            )
        if stream is not None:
            stream.close()
            stream.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def cancel(self) -> None:
        with self._cv:
            stream = self._stream
        if stream is not None:
            stream.cancel()

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def fail(self, failure: TrackerError) -> None:
        with self._cv:
            self._fail_locked(failure)

    def _on_ack(self, ack: pb.WriteAck) -> None:
        with self._cv:
            expected = self._unacked[0].seq if self._unacked else None
            if ack.seq != expected:
                self._fail_locked(
                    TrackerError(
                        f"the server acknowledged batch {ack.seq} while batch {expected} was expected"
                    )
                )
                return
            self._unacked.popleft()
            self._acked_seq = ack.seq
            self._cv.notify_all()

    def _on_end(self, error: grpc.RpcError | None) -> None:
        with self._cv:
            if error is not None:
                self._fail_locked(translate_rpc_error(error, server=self._connection.server))
            elif self._unacked:
                self._fail_locked(
                    TrackerError(
                        f"the server ended the stream with {len(self._unacked)} batches unacknowledged"
                    )
                )
            else:  # ended cleanly with everything acked: the next batch opens a new stream
                self._stream_ended = True

    def _fail_locked(self, failure: TrackerError) -> None:
        first = self.failure is None
        if first:
            self.failure = failure
        self._cv.notify_all()
        if first and self._on_failure is not None:
            self._on_failure()

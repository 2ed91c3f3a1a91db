"""The sender: a named daemon thread that streams a run's batches and releases them on acknowledgement.

Shaped like TensorBoard's event-file writer thread (a daemon worker, ``flush()`` that waits, a
worker failure re-raised on the caller's next call) with acknowledgements added: a batch stays in
memory until the server acks its ``(writer_id, seq)``, which it does only after commit.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import EncodedBatch, PointBuffer, encode_batches
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


class Sender:
    """Drains a PointBuffer into numbered batches and streams them, at most ``window`` unacknowledged.

    Wakes every ``flush_interval`` seconds, when ``wake()`` is called (the buffer holds a full
    batch) or on ``flush()``. The first failure is kept in ``failure``; the run raises it on the
    caller's next call, and it stays raised.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        run_id: str,
        buffer: PointBuffer,
        flush_interval: float = 1.0,
        window: int = 8,
    ) -> None:
        self.writer_id = uuid.uuid4().hex
        self.failure: TrackerError | None = None
        self._connection = connection
        self._run_id = run_id
        self._buffer = buffer
        self._flush_interval = flush_interval
        self._window = window
        self._cv = threading.Condition()
        self._wake = threading.Event()
        self._unacked: deque[EncodedBatch] = deque()
        self._next_seq = 1
        self._acked_seq = 0
        self._flush_ticket = 0
        self._drained_ticket = 0
        self._drained_seq = 0
        self._closing = False
        self._stream: _Stream | None = None
        self._stream_ended = False
        self._thread = threading.Thread(target=self._run, name=f"tracker-sender-{run_id}", daemon=True)
        self._thread.start()

    # -- caller side ---------------------------------------------------------------------------

    @property
    def wake(self) -> Callable[[], None]:
        return self._wake.set

    @property
    def wake_is_set(self) -> Callable[[], bool]:
        return self._wake.is_set

    def flush(self, timeout: float) -> None:
        """Return when everything buffered before this call is acknowledged; raise the failure if any."""
        deadline = time.monotonic() + timeout
        with self._cv:
            self._raise_failure()
            self._flush_ticket += 1
            ticket = self._flush_ticket
        self._wake.set()
        with self._cv:
            self._cv.wait_for(
                lambda: self.failure is not None or self._drained_ticket >= ticket,
                max(0.0, deadline - time.monotonic()),
            )
            self._raise_failure()
            target = self._drained_seq if self._drained_ticket >= ticket else None
            done = target is not None and self._cv.wait_for(
                lambda: self.failure is not None or self._acked_seq >= target,
                max(0.0, deadline - time.monotonic()),
            )
            self._raise_failure()
            if not done:
                raise DeadlineExceededError(
                    f"flush timed out after {timeout:g}s with {len(self._unacked)} batches unacknowledged "
                    f"by {self._connection.server}"
                )

    def close(self, timeout: float) -> None:
        """Send everything, wait for the acks, end the stream and stop the thread."""
        with self._cv:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        with self._cv:
            self._raise_failure()
        if self._thread.is_alive():
            raise DeadlineExceededError(
                f"could not deliver everything to {self._connection.server} within {timeout:g}s"
            )

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    # -- sender thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
                with self._cv:
                    ticket, closing = self._flush_ticket, self._closing
                if self.failure is not None:
                    if self._stream is not None:
                        self._stream.cancel()
                    return
                self._send_buffered()
                with self._cv:
                    self._drained_ticket = ticket
                    self._drained_seq = self._next_seq - 1
                    self._cv.notify_all()
                if closing:
                    break
            self._end_stream()
        except BaseException as exc:  # a bug here must reach the caller, not die with the thread
            self._fail(TrackerError(f"the sender thread failed: {exc!r}"))
            raise

    def _send_buffered(self) -> None:
        columns, histograms = self._buffer.drain()
        if not columns and not histograms:
            return
        batches = encode_batches(
            run_id=self._run_id,
            writer_id=self.writer_id,
            first_seq=self._next_seq,
            columns=columns,
            histograms=histograms,
        )
        for batch in batches:
            with self._cv:
                self._cv.wait_for(lambda: len(self._unacked) < self._window or self.failure is not None)
                if self.failure is not None:
                    return
                self._unacked.append(batch)
                self._next_seq = batch.seq + 1
            if self._stream is None or self._stream_ended:
                self._stream_ended = False
                self._stream = _Stream(
                    self._connection,
                    on_ack=self._on_ack,
                    on_end=self._on_end,
                    name=f"tracker-acks-{self._run_id}",
                )
            self._stream.send(batch.payload)

    def _end_stream(self) -> None:
        if self._stream is None:
            return
        with self._cv:
            self._cv.wait_for(lambda: not self._unacked or self.failure is not None)
        self._stream.close()
        self._stream.join(None)

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

    def _fail(self, failure: TrackerError) -> None:
        with self._cv:
            self._fail_locked(failure)

    def _fail_locked(self, failure: TrackerError) -> None:
        if self.failure is None:
            self.failure = failure
        self._cv.notify_all()
        self._wake.set()

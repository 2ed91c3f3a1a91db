"""The sender: a named daemon thread that drains a run's buffer into batches and delivers them.

Shaped like TensorBoard's event-file writer thread (a daemon worker, ``flush()`` that waits, a
worker failure re-raised on the caller's next call) with acknowledgements added: a batch stays in
memory until the server acks its ``(writer_id, seq)``, which it does only after commit
(``tracker_client.delivery``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

from tracker_client.batches import PointBuffer, encode_batches
from tracker_client.channel import Connection
from tracker_client.delivery import Delivery
from tracker_client.errors import DeadlineExceededError, TrackerError


class Sender:
    """Drains a PointBuffer into numbered batches and hands them to a Delivery.

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
        self._connection = connection
        self._run_id = run_id
        self._buffer = buffer
        self._flush_interval = flush_interval
        self._delivery = Delivery(connection, name=f"tracker-acks-{run_id}", window=window)
        self._wake = threading.Event()
        self._delivery.on_failure(self._wake.set)
        self._cv = threading.Condition()
        self._next_seq = 1
        self._flush_ticket = 0
        self._drained_ticket = 0
        self._drained_seq = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=f"tracker-sender-{run_id}", daemon=True)
        self._thread.start()

    @property
    def failure(self) -> TrackerError | None:
        return self._delivery.failure

    @property
    def wake(self) -> Callable[[], None]:
        return self._wake.set

    @property
    def wake_is_set(self) -> Callable[[], bool]:
        return self._wake.is_set

    @property
    def acked_seq(self) -> int:
        return self._delivery.acked_seq

    # -- caller side ---------------------------------------------------------------------------

    def flush(self, timeout: float) -> None:
        """Return when everything buffered before this call is acknowledged; raise the failure if any."""
        deadline = time.monotonic() + timeout
        self._delivery.raise_failure()
        with self._cv:
            self._flush_ticket += 1
            ticket = self._flush_ticket
        self._wake.set()
        with self._cv:
            drained = self._cv.wait_for(
                lambda: self.failure is not None or self._drained_ticket >= ticket,
                max(0.0, deadline - time.monotonic()),
            )
            target = self._drained_seq
        self._delivery.raise_failure()
        if not drained or not self._delivery.wait_acked(target, max(0.0, deadline - time.monotonic())):
            raise DeadlineExceededError(
                f"flush timed out after {timeout:g}s with {self._delivery.unacked()} batches unacknowledged "
                f"by {self._connection.server}"
            )

    def close(self, timeout: float) -> None:
        """Send everything, wait for the acks, end the stream and stop the thread."""
        with self._cv:
            self._closing = True
        self._wake.set()
        self._thread.join(timeout)
        self._delivery.raise_failure()
        if self._thread.is_alive():
            raise DeadlineExceededError(
                f"could not deliver everything to {self._connection.server} within {timeout:g}s"
            )

    # -- sender thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
                with self._cv:
                    ticket, closing = self._flush_ticket, self._closing
                if self.failure is not None:
                    self._delivery.cancel()
                    with self._cv:
                        self._cv.notify_all()
                    return
                self._send_buffered()
                with self._cv:
                    self._drained_ticket = ticket
                    self._drained_seq = self._next_seq - 1
                    self._cv.notify_all()
                if closing:
                    break
            self._delivery.close()
        except TrackerError:
            with self._cv:
                self._cv.notify_all()
        except BaseException as exc:  # a bug here must reach the caller, not die with the thread
            self._delivery.fail(TrackerError(f"the sender thread failed: {exc!r}"))
            raise

    def _send_buffered(self) -> None:
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
        for batch in batches:
            if not self._delivery.submit(batch):
                return
            self._next_seq = batch.seq + 1

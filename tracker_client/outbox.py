"""The outbox: a run's records waiting for delivery, in memory up to a budget, then on disk.

Records (batches, and the calls between them) leave the outbox in the order they entered it.
While the server keeps up they stay in memory; when more than ``max_memory`` bytes wait (the
server is slow or away), the outbox moves to the run's spool file: what is in flight and what
waits is written there, later records are appended, and delivery reads them back in order. Once
delivery has read the whole file, the file is deleted and records stay in memory again.

A parked outbox only appends to the spool file and never gives records back: an offline run, or
a run whose delivery failed for good, or one that ended before everything was delivered. Only
the run's sender thread uses an outbox.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

from tracker_client.spool import Record, SpoolFile


class Outbox:
    def __init__(self, start: Record, *, max_memory: int, directory: Path | None = None) -> None:
        self._start = start
        self._max_memory = max_memory
        self._directory = directory
        self._memory: deque[Record] = deque()
        self._memory_bytes = 0
        self._file: SpoolFile | None = None
        self._read_at = 0  # in the file: offset of the next record to give back
        self._head: tuple[Record, int] | None = None  # the record at _read_at, and the offset after it
        self.parked = False

    @property
    def spool_path(self) -> Path | None:
        return self._file.path if self._file is not None else None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def put(self, record: Record, in_flight: Callable[[], Iterable[Record]]) -> None:
        """Add ``record`` at the end; ``in_flight`` gives the records delivery holds unacknowledged
        (written first if this put moves the outbox to disk)."""
        if self._file is not None:
            self._file.append(record)
            return
        self._memory.append(record)
        self._memory_bytes += len(record.body)
        if self._memory_bytes > self._max_memory:
            self._to_disk(in_flight())

    def head(self) -> Record | None:
        """The next record to deliver, without taking it (None when empty or parked)."""
        if self.parked:
            return None
        if self._file is None:
            return self._memory[0] if self._memory else None
        if self._head is None:
            if self._read_at >= self._file.end:
                return None
            self._file.flush()
            self._head = self._file.read(self._read_at)
        return self._head[0]

    def pop(self) -> None:
        """Remove the record ``head()`` returned."""
        if self._file is None:
            record = self._memory.popleft()
            self._memory_bytes -= len(record.body)
            return
        assert self._head is not None
        self._read_at = self._head[1]
        self._head = None
        if self._read_at >= self._file.end:  # caught up: back to memory
            self._file.close(delete=True)
            self._file = None

    def park(self, in_flight: Iterable[Record]) -> Path:
        """Keep everything (``in_flight`` first, then what waits) in the spool file from now on."""
        if self._file is None:
            self._to_disk(in_flight)
        self.parked = True
        assert self._file is not None
        return self._file.path

    def flush(self, *, durable: bool = False) -> None:
        if self._file is not None:
            self._file.flush(durable=durable)

    def close(self) -> Path | None:
        """Close the spool file, if any, keeping it when parked (it holds undelivered records)."""
        if self._file is None:
            return None
        path = self._file.path
        keep = self.parked
        self._file.flush(durable=keep)
        self._file.close(delete=not keep)
        self._file = None
        return path if keep else None

    def _to_disk(self, in_flight: Iterable[Record]) -> None:
        spool = SpoolFile.create(self._directory)
        spool.append(self._start)
        for record in in_flight:
            spool.append(record)
        self._read_at = spool.end
        for record in self._memory:
            spool.append(record)
        spool.flush()
        self._memory.clear()
        self._memory_bytes = 0
        self._file = spool
        self._head = None

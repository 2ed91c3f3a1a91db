"""Reading TFRecord files, the container of TensorBoard event files, without giving up on damage.

A record is ``uint64 LE length | uint32 masked crc32c(length) | data | uint32 masked crc32c(data)``.
Event files are appended to by a training job that may crash or still be running, and they get
copied around, so the reader expects damage: a record whose length or data CRC does not verify
is reported as a ``RecordProblem`` and skipped, and the reader resynchronises by scanning forward
for the next offset where a length CRC and a data CRC both verify, so one bad byte costs one
record, not the rest of the file. An incomplete record at the end is reported as truncated, and
``RecordReader.position`` tells a later read where to resume once the writer has finished it.

The file is read in large blocks and scanned with ``struct``; a million small records take well
under a second.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, NamedTuple

import google_crc32c
import numpy as np

_HEADER = struct.Struct("<QI")  # length, masked crc32c of the 8 length bytes
_FOOTER = struct.Struct("<I")  # masked crc32c of the data
HEADER_SIZE = 12
FOOTER_SIZE = 4
_MASK_DELTA = 0xA282EAD8
# No TensorBoard record comes near 2 GiB (protobuf's message limit); a larger length is damage.
MAX_RECORD_LENGTH = 2**31 - 1
DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
DEFAULT_MAX_RESYNC_BYTES = 64 * 1024 * 1024
_SCAN_WINDOW = 256 * 1024

ProblemKind = Literal["corrupt", "truncated"]


class Record(NamedTuple):
    """The payload of one verified record and the file offset its header starts at.

    A NamedTuple rather than a frozen dataclass: the reader makes a million of these a second, and a
    tuple is made at C speed where a frozen dataclass's ``__init__`` would double the reading time."""

    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """Bytes of ``path`` from ``offset`` that yielded no record.

    ``kind`` is "truncated" for an incomplete record at the end of the file (a writer still writing,
    or a crash), "corrupt" for bytes that failed a CRC check. ``skipped`` is how many bytes were passed
    over: up to the next good record, or to the end of the file."""

    path: str
    offset: int
    kind: ProblemKind
    reason: str
    skipped: int


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: crc32c rotated right by 15 bits plus a constant, modulo 2**32."""
    crc = int(google_crc32c.value(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def write_record(file: BinaryIO, data: bytes) -> int:
    """Append one record holding ``data`` to ``file``; return the number of bytes written."""
    length = struct.pack("<Q", len(data))
    frame = length + struct.pack("<I", masked_crc32c(length)) + data + _FOOTER.pack(masked_crc32c(data))
    file.write(frame)
    return len(frame)


def iter_records(
    path: str | os.PathLike[str],
    *,
    start: int = 0,
    on_problem: Callable[[RecordProblem], None] | None = None,
) -> Iterator[Record]:
    """The verified records of ``path`` from ``start``, damage passed to ``on_problem``. A
    ``RecordReader`` also keeps the problems and the position to resume from."""
    return iter(RecordReader(path, start=start, on_problem=on_problem))


class RecordReader:
    """Iterate the verified records of one file from ``start``; damage goes to ``problems``.

    ``on_problem`` is also called with each problem as it is found. Resynchronisation gives up after
    ``max_resync_bytes`` without a valid record (reported as a problem; the rest of the file is not
    read). After iteration, ``position`` is the offset to resume from when the file grows: the start
    of a truncated final record, or the end of what was read; after a consumer stops early, the
    offset after the last record it received. Iterating again continues from ``position``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        start: int = 0,
        on_problem: Callable[[RecordProblem], None] | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_resync_bytes: int = DEFAULT_MAX_RESYNC_BYTES,
    ) -> None:
        if block_size < 4096:
            raise ValueError(f"block_size must be at least 4096, got {block_size}")
        self.path = os.fspath(path)
        self.position = start
        self.problems: list[RecordProblem] = []
        self._on_problem = on_problem
        self._block_size = block_size
        self._max_resync = max_resync_bytes

    def __iter__(self) -> Iterator[Record]:
        return self._read()

    def _problem(self, offset: int, kind: ProblemKind, reason: str, skipped: int) -> None:
        problem = RecordProblem(self.path, offset, kind, reason, skipped)
        self.problems.append(problem)
        if self._on_problem is not None:
            self._on_problem(problem)

    def _read(self) -> Iterator[Record]:
        window = _Window(self.path, self.position, self._block_size)
        try:
            # Everything the hot loop touches is local: under a microsecond per small record.
            unpack_header = _HEADER.unpack_from
            unpack_footer = _FOOTER.unpack_from
            crc = google_crc32c.value
            new_record, record = tuple.__new__, Record
            delta, low32 = _MASK_DELTA, 0xFFFFFFFF
            length_crcs: dict[int, int] = {}
            offset = self.position
            while True:
                pos = window.fill(offset, HEADER_SIZE)
                buf, base = window.buf, window.base
                end = len(buf)
                # The fast path: consecutive good records inside the buffer. Any doubt leaves the loop.
                while pos + 12 <= end:
                    length, length_crc = unpack_header(buf, pos)
                    stop = pos + 12 + length
                    if stop + 4 > end:
                        break
                    if length_crcs.get(length) != length_crc:  # the length CRC depends on the length only
                        c = crc(buf[pos : pos + 8])
                        if (((c >> 15) | (c << 17)) + delta) & low32 != length_crc:
                            break
                        if len(length_crcs) > 100_000:
                            length_crcs.clear()
                        length_crcs[length] = length_crc
                    data = buf[pos + 12 : stop]
                    c = crc(data)
                    if (((c >> 15) | (c << 17)) + delta) & low32 != unpack_footer(buf, stop)[0]:
                        break
                    offset = base + pos
                    pos = stop + 4  # before yielding, so that a consumer that stops here resumes after it
                    yield new_record(record, (offset, data))
                offset = self.position = base + pos
                state, size = _check(window, offset)
                if state == "ok":
                    continue  # the record only needed more of the file in the buffer
                if state == "end":
                    return
                if state == "truncated":
                    self._problem(offset, "truncated", "incomplete record at the end of the file", size)
                    return
                found, at = self._scan(window, offset + 1)
                if found == "record":
                    self._problem(
                        offset, "corrupt", f"{state}; skipped to the next valid record", at - offset
                    )
                    offset = self.position = at
                    continue
                if found == "truncated":
                    self._problem(offset, "corrupt", f"{state}; skipped to a truncated record", at - offset)
                    self._problem(
                        at, "truncated", "incomplete record at the end of the file", window.end() - at
                    )
                    self.position = at
                elif found == "end":
                    self._problem(
                        offset, "corrupt", f"{state}; no valid record up to the end of the file", at - offset
                    )
                    self.position = at
                else:
                    reason = f"{state}; no valid record in the next {self._max_resync} bytes, gave up"
                    self._problem(offset, "corrupt", reason, at - offset)
                    self.position = at
                return
        except GeneratorExit:  # the consumer stopped early: resume after the last record it got
            self.position = base + pos
            raise
        finally:
            window.close()

    def _scan(
        self, window: _Window, offset: int
    ) -> tuple[Literal["record", "truncated", "end", "gave up"], int]:
        """Look byte by byte from ``offset`` for a record whose length CRC and data CRC verify."""
        limit = offset + self._max_resync
        while offset < limit:
            pos = window.fill(offset, _SCAN_WINDOW + HEADER_SIZE - 1)
            count = min(_SCAN_WINDOW, len(window.buf) - pos - HEADER_SIZE + 1, limit - offset)
            if count <= 0:
                return "end", window.end()
            for candidate in [window.base + i for i in _verified_headers(window.buf, pos, pos + count)]:
                state, _ = _check(window, candidate)
                if state == "ok":
                    return "record", candidate
                if state == "truncated":
                    return "truncated", candidate
            offset += count
        return "gave up", offset


class _Window:
    """The bytes of a file from ``base`` on, read ahead in large blocks."""

    def __init__(self, path: str, base: int, block_size: int) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 - closed by close(), from the reader's finally
        self.file.seek(base)
        self.base = base
        self.buf = b""
        self.eof = False
        self.block_size = block_size

    def fill(self, offset: int, size: int) -> int:
        """Have bytes [offset, offset + size) in ``buf`` (fewer at the end of the file); return the index
        of ``offset`` in ``buf``. Bytes before ``offset`` may be dropped."""
        pos = offset - self.base
        missing = pos + size - len(self.buf)
        if missing > 0 and not self.eof:
            want = max(self.block_size, missing)
            more = self.file.read(want)
            self.eof = len(more) < want
            self.buf = self.buf[pos:] + more
            self.base, pos = offset, 0
        return pos

    def close(self) -> None:
        self.file.close()

    def end(self) -> int:
        """The offset just past the bytes read so far (the end of the file once ``eof``)."""
        return self.base + len(self.buf)


_State = Literal["ok", "end", "truncated", "length CRC mismatch", "implausible length", "data CRC mismatch"]


def _check(window: _Window, offset: int) -> tuple[_State, int]:
    """What lies at ``offset``: a good record, the end, a truncated record (with the bytes present),
    or damage. Reads as much of the file as the record claims to need."""
    pos = window.fill(offset, HEADER_SIZE)
    buf = window.buf
    present = len(buf) - pos
    if present == 0:
        return "end", 0
    if present < HEADER_SIZE:
        return "truncated", present
    length, length_crc = _HEADER.unpack_from(buf, pos)
    if masked_crc32c(buf[pos : pos + 8]) != length_crc:
        return "length CRC mismatch", 0
    if length > MAX_RECORD_LENGTH:
        return "implausible length", 0
    total = HEADER_SIZE + length + FOOTER_SIZE
    pos = window.fill(offset, total)
    buf = window.buf
    if len(buf) - pos < total:
        return "truncated", len(buf) - pos
    stop = pos + HEADER_SIZE + length
    if masked_crc32c(buf[pos + HEADER_SIZE : stop]) != _FOOTER.unpack_from(buf, stop)[0]:
        return "data CRC mismatch", total
    return "ok", total


def _verified_headers(buf: bytes, start: int, stop: int) -> list[int]:
    """Indices in [start, stop) where 12 bytes of ``buf`` form a header with a plausible length and a
    verifying length CRC. numpy rules out almost every index first (random bytes rarely make a
    length under 2 GiB, and zero-filled pages fail the CRC of a zero length), so scanning a damaged
    MiB costs milliseconds, not a CRC per byte."""
    count = stop - start
    b = np.frombuffer(buf, dtype=np.uint8, count=count + HEADER_SIZE - 1, offset=start)
    plausible = b[3 : 3 + count] < 0x80  # length < 2**31: byte 3 below 0x80, bytes 4 to 7 zero
    for k in range(4, 8):
        plausible &= b[k : k + count] == 0
    index = np.flatnonzero(plausible)
    if index.size:
        zero_length = (b[index] | b[index + 1] | b[index + 2] | b[index + 3]) == 0
        stored = b[index + 8].astype(np.uint32)
        for k in range(1, 4):
            stored |= b[index + 8 + k].astype(np.uint32) << np.uint32(8 * k)
        index = index[~zero_length | (stored == _ZERO_LENGTH_CRC)]
    found = []
    for i in (start + i for i in index.tolist()):
        if masked_crc32c(buf[i : i + 8]) == _FOOTER.unpack_from(buf, i + 8)[0]:
            found.append(i)
    return found


_ZERO_LENGTH_CRC = masked_crc32c(bytes(8))

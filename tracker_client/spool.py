"""The spool: a run's write-ahead log on local disk, for what the server has not acknowledged.

A spool file holds a run's records in the order they were made: a START record (who the run is),
then batches and the calls between them (hyperparameters, layouts, purges, finish). It is written
by an offline run, by an online run whose unacknowledged data outgrew its memory budget, and by a
run that could not deliver everything before it ended; ``tracker sync`` replays it
(``tracker_client.sync``). Each file lives in the spool directory under a random name: no run,
project or tag name ever becomes part of a path.

File layout: the magic line, then records of ``<IIBQ`` (body length, CRC-32 of everything after
the CRC, kind, seq) and the body. A batch's ``seq`` is its writer sequence number; a call's is the
seq of the last batch made before it. A torn last record (the process died mid-write) fails its
length or CRC check and ends the file there.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tracker_client.config import data_dir

try:
    import fcntl
except ImportError:  # Windows: files are not locked; do not sync a spool of a live run there
    fcntl = None  # type: ignore[assignment]

MAGIC = b"TRACKER-SPOOL 1\n"
SUFFIX = ".spool"
_HEADER = struct.Struct("<IIBQ")
_MAX_BODY = 64 * 1024 * 1024  # far above any record we write: a longer length is corruption


class Kind(enum.IntEnum):
    START = 1  # JSON: format, writer_id, project, name, run_id (None offline), server, pid, created
    BATCH = 2  # a WriteBatchBytes payload
    HPARAMS = 3  # a SetHParamsRequest
    CUSTOM_SCALARS = 4  # a SetCustomScalarsRequest
    PURGE = 5  # a PurgeStepsRequest
    FINISH = 6  # a FinishRunRequest


@dataclass(frozen=True, slots=True)
class Record:
    """One thing a run did, ready to replay: a batch (``seq`` its number) or a call (``seq`` the
    number of the batch before it)."""

    kind: Kind
    seq: int
    body: bytes
    points: int = 0


def spool_dir() -> Path:
    """Where spool files are kept: TRACKER_SPOOL_DIR, else ``<data dir>/spool``."""
    override = os.environ.get("TRACKER_SPOOL_DIR")
    return Path(override).expanduser() if override else data_dir() / "spool"


def start_record(
    *, writer_id: str, project: str, name: str, run_id: str | None, server: str | None
) -> Record:
    info = {
        "format": 1,
        "writer_id": writer_id,
        "project": project,
        "name": name,
        "run_id": run_id,
        "server": server,
        "pid": os.getpid(),
    }
    return Record(Kind.START, 0, json.dumps(info).encode())


class SpoolFile:
    """A spool file open for appending (and reading back), locked against concurrent syncs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed in close()
        _lock(self._writer)
        if self._writer.tell() == 0:
            self._writer.write(MAGIC)
        self._reader: IO[bytes] | None = None
        self.records = 0

    @classmethod
    def create(cls, directory: Path | None = None) -> SpoolFile:
        return cls((directory or spool_dir()) / f"{uuid.uuid4().hex}{SUFFIX}")

    @property
    def end(self) -> int:
        """The offset just past the last record appended."""
        return self._writer.tell()

    def append(self, record: Record) -> int:
        """Append ``record``; return its offset. Buffered: ``flush()`` hands it to the OS."""
        offset = self._writer.tell()
        head = struct.pack("<BQ", record.kind, record.seq)
        crc = zlib.crc32(record.body, zlib.crc32(head))
        self._writer.write(_HEADER.pack(len(record.body), crc, record.kind, record.seq))
        self._writer.write(record.body)
        self.records += 1
        return offset

    def flush(self, *, durable: bool = False) -> None:
        """Hand what was appended to the OS (it survives the process being killed); with
        ``durable``, to the disk (it survives a power cut)."""
        self._writer.flush()
        if durable:
            os.fsync(self._writer.fileno())

    def read(self, offset: int) -> tuple[Record, int]:
        """The record at ``offset`` and the offset after it (appended records must be flushed)."""
        if self._reader is None:
            self._reader = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._reader.seek(offset)
        record = _read_record(self._reader)
        if record is None:
            raise OSError(f"spool file {self.path} is damaged at byte {offset}")
        return record, self._reader.tell()

    def close(self, *, delete: bool = False) -> None:
        if self._reader is not None:
            self._reader.close()
        if delete:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        self._writer.close()  # closing releases the lock


@dataclass
class SpoolContents:
    """What a spool file holds: its START information and its records, and whether its end is torn."""

    path: Path
    start: dict[str, Any]
    records: list[tuple[Record, int]]  # (record, offset)
    torn_at: int | None = None  # offset of a damaged or partial last record, if any


def read_spool(path: Path) -> SpoolContents:
    """Read a whole spool file (bodies included). ValueError if it is not a spool file."""
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not a Tracker spool file")
        records: list[tuple[Record, int]] = []
        torn_at = None
        while True:
            offset = f.tell()
            record = _read_record(f)
            if record is None:
                if f.read(1):  # something is there but it is not a whole, intact record
                    torn_at = offset
                break
            records.append((record, offset))
    if not records or records[0][0].kind != Kind.START:
        raise ValueError(f"{path} has no START record: it is damaged")
    start = json.loads(records[0][0].body)
    return SpoolContents(path, start, records[1:], torn_at)


def spool_files(directory: Path) -> list[Path]:
    """The spool files in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: (p.stat().st_mtime, p.name))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[bool]:
    """Hold ``path``'s lock for the block; yields False when a live process holds it."""
    with open(path, "rb") as f:
        try:
            _lock(f)
        except BlockingIOError:
            yield False
            return
        yield True


def _lock(f: IO[bytes]) -> None:
    if fcntl is not None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_record(f: IO[bytes]) -> Record | None:
    header = f.read(_HEADER.size)
    if len(header) < _HEADER.size:
        if header:
            f.seek(-len(header), os.SEEK_CUR)
        return None
    length, crc, kind, seq = _HEADER.unpack(header)
    body = f.read(length) if length <= _MAX_BODY else b""
    valid = (
        length <= _MAX_BODY
        and len(body) == length
        and kind in Kind._value2member_map_
        and zlib.crc32(body, zlib.crc32(struct.pack("<BQ", kind, seq))) == crc
    )
    if not valid:
        f.seek(-(len(header) + len(body)), os.SEEK_CUR)
        return None
    return Record(Kind(kind), seq, body)

"""``tracker import tensorboard LOGDIR``: bring TensorBoard event files into Tracker.

Each folder holding event files becomes a run named by its path below LOGDIR (the folder itself,
when LOGDIR holds event files directly, is named after LOGDIR, or "." if a folder below has that
name). Its files are read in name order
(TensorBoard names them by creation time) and sent through the normal ingest path, in batches that
each cover a contiguous range of one file's records.

Importing twice stores once, and a file that grew since (training went on) continues where the
last import stopped: every file is one writer whose cursor holds the byte offset after the last
record committed (``IngestService.GetCursor``), so a re-run skips what is stored and a batch whose
acknowledgement was lost is recognised as a duplicate. A corrupt or truncated record is reported
with its file and offset and the rest is imported (``records.RecordReader`` resynchronises).
"""

from __future__ import annotations

import hashlib
import os
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import MAX_BATCH_BYTES, EncodedBatch
from tracker_client.channel import Connection
from tracker_client.convert import STATUS_CODES, histogram_to_proto, pr_curve_to_proto
from tracker_client.delivery import Delivery
from tracker_client.histogram import histogram_problem
from tracker_client.hparams import to_proto_map
from tracker_client.validation import name_problem
from tracker_server.domain import limits
from tracker_server.domain.model import RunStatus
from tracker_server.tensorboard.events import (
    EventParser,
    HistogramEvent,
    HParamsEvent,
    PrCurveEvent,
    RestartEvent,
    ScalarEvent,
    SessionEndEvent,
    SkippedEvent,
    TensorBoardEvent,
    TextEvent,
    scalar_fields,
)
from tracker_server.tensorboard.records import RecordProblem, RecordReader

EVENT_FILE_MARK = "tfevents"
_RECORD_OVERHEAD = 16  # header and footer around each record's data
_POINT_BYTES = 24


def find_runs(logdir: Path) -> dict[str, list[Path]]:
    """Run name -> its event files in name order, for every folder below ``logdir`` holding some."""
    root = logdir.resolve()
    found: dict[str, list[Path]] = {}
    for folder, _dirs, files in sorted(os.walk(root)):
        events = sorted(f for f in files if EVENT_FILE_MARK in f)
        if events:
            found[Path(folder).relative_to(root).as_posix()] = [Path(folder) / f for f in events]
    # Files directly in LOGDIR form the run named after LOGDIR, unless a folder below has that
    # name: then, as TensorBoard shows it, ".".
    if "." in found and root.name not in found:
        found[root.name] = found.pop(".")
    return dict(sorted(found.items()))


@dataclass
class ImportReport:
    runs: int = 0
    files: int = 0
    imported: Counter[str] = field(default_factory=Counter)  # scalars, histograms, pr_curves, texts, hparams
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # events the server would refuse
    problems: list[RecordProblem] = field(default_factory=list)
    up_to_date_files: int = 0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.imported.values())


class _Batch:
    """One WriteBatchBytes being filled from consecutive records of one file. The importer appends
    scalars to ``scalars`` itself (the hot path); ``size`` then counts them at the end."""

    def __init__(self, run_id: str, writer_id: str) -> None:
        self.run_id = run_id
        self.writer_id = writer_id
        self.scalars: dict[str, tuple[array[int], array[float], array[float]]] = {}
        self.entries: dict[str, dict[str, list[Any]]] = {"histograms": {}, "pr_curves": {}, "texts": {}}
        self.size = 0
        self.points = 0

    def column(self, tag: str) -> tuple[array[int], array[float], array[float]]:
        column = self.scalars[tag] = (array("q"), array("d"), array("d"))
        self.size += 40 + len(tag)
        return column

    def add_entry(self, field_name: str, tag: str, message: Any) -> None:
        self.entries[field_name].setdefault(tag, []).append(message)
        self.size += message.ByteSize() + len(tag) + 16
        self.points += 1

    def encode(self, seq: int, position: int) -> EncodedBatch:
        message = pb.WriteBatchBytes(run_id=self.run_id, writer_id=self.writer_id, seq=seq, position=position)
        for tag, (steps, walls, values) in self.scalars.items():
            message.scalars.add(
                tag=tag,
                steps=[np.frombuffer(steps, dtype=np.int64).astype("<i8").tobytes()],
                wall_times=[np.frombuffer(walls, dtype=np.float64).astype("<f8").tobytes()],
                values=[np.frombuffer(values, dtype=np.float64).astype("<f8").tobytes()],
            )
        columns = {"histograms": "histograms", "pr_curves": "curves", "texts": "texts"}
        for field_name, by_tag in self.entries.items():
            for tag, items in by_tag.items():
                getattr(getattr(message, field_name).add(tag=tag), columns[field_name]).extend(items)
        return EncodedBatch(seq, message.SerializeToString(), self.points)


def writer_id_of(run_name: str, path: Path) -> str:
    """A stable writer per event file, so its cursor survives between imports."""
    return "tensorboard-" + hashlib.sha256(f"{run_name}/{path.name}".encode()).hexdigest()[:40]


class Importer:
    """Imports a logdir into a project through one connection; see the module docstring."""

    def __init__(
        self,
        connection: Connection,
        project: str,
        *,
        batch_bytes: int = MAX_BATCH_BYTES,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``progress(bytes, events)`` is called now and then with the bytes of event files read
        since its last call and the events imported so far."""
        self._connection = connection
        self._project = project
        self._batch_bytes = batch_bytes
        self._progress = progress or (lambda read, events: None)
        self.report = ImportReport()

    def import_logdir(self, logdir: Path) -> ImportReport:
        started = time.monotonic()
        for run_name, files in find_runs(logdir).items():
            self._import_run(run_name, files)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _call(self, method: Any, request: Any) -> Any:
        return self._connection.call(method, request)

    def _import_run(self, run_name: str, files: list[Path]) -> None:
        runs = self._connection.runs
        created = self._call(runs.CreateRun, pb.CreateRunRequest(project=self._project, name=run_name))
        run = _RunImport(self, created.run.id)
        self.report.runs += 1
        for path in files:
            self.report.files += 1
            run.import_file(path, writer_id_of(run_name, path))
        run.delivery.close()
        if run.hparams:
            self._call(
                runs.SetHParams, pb.SetHParamsRequest(run_id=run.run_id, hparams=to_proto_map(run.hparams))
            )
        if run.status != "running":  # a session that says it is still running stays so
            self._call(
                runs.FinishRun, pb.FinishRunRequest(run_id=run.run_id, status=STATUS_CODES[run.status])
            )

    def _send(self, delivery: Delivery, batch: _Batch, seq: int, position: int, scalars: int) -> int:
        """Submit ``batch`` (holding ``scalars`` scalar points besides its entries) as the writer's
        next sequence number; return that number."""
        seq += 1
        batch.points += scalars
        self.report.imported["scalars"] += scalars
        if not delivery.submit(batch.encode(seq, position)):
            delivery.raise_failure()
        return seq


class _RunImport:
    """The import of one run: its delivery, and what its files say about it as a whole (hparams,
    status). Events the server would refuse are counted in the report instead of being sent, so
    one bad value never stops an import."""

    def __init__(self, importer: Importer, run_id: str) -> None:
        self.importer = importer
        self.report = importer.report
        self.run_id = run_id
        self.parser = EventParser()
        self.delivery = Delivery(importer._connection, name=f"tracker-import-{run_id}")
        self.hparams: dict[str, Any] = {}
        self.status: RunStatus = "finished"
        self.known_tags: set[str] = set()

    def _reject(self, why: str) -> None:
        self.report.rejected[why] += 1

    def _tag_ok(self, tag: str) -> bool:
        if tag in self.known_tags:
            return True
        if (problem := name_problem("tag", tag)) is not None:
            self._reject(problem)
            return False
        self.known_tags.add(tag)
        return True

    def _point_ok(self, tag: str, step: int, wall_time: float) -> bool:
        if step < 0:
            self._reject(f"negative step ({tag!r})")
            return False
        if wall_time - wall_time != 0.0:  # NaN or infinite
            self._reject(f"non-finite wall time ({tag!r})")
            return False
        return self._tag_ok(tag)

    def _learn(self, events: Sequence[TensorBoardEvent]) -> None:
        """What already-imported events say about the run as a whole."""
        for event in events:
            if isinstance(event, HParamsEvent):
                self.hparams.update(event.hparams)
            elif isinstance(event, SessionEndEvent):
                self.status = event.status

    def import_file(self, path: Path, writer: str) -> None:
        importer, connection = self.importer, self.importer._connection
        cursor = importer._call(
            connection.ingest.GetCursor, pb.GetCursorRequest(run_id=self.run_id, writer_id=writer)
        )
        if cursor.position:  # re-read what was imported before: tags' plugins, hparams, status
            for record in _records(path, stop=cursor.position):
                self._learn(self.parser.parse(record.data))
            importer._progress(cursor.position, self.report.events)
        reader = RecordReader(path, start=cursor.position, on_problem=self.report.problems.append)
        seq = cursor.last_seq
        batch = _Batch(self.run_id, writer)
        position = reported = cursor.position
        scalars = batch.scalars
        scalar_count = 0
        for record in reader:
            fields = scalar_fields(record.data)
            if fields is not None:  # the bulk of any logdir: straight into the batch's columns
                tag, step, wall_time, value = fields
                column = scalars.get(tag)
                if column is None or step < 0 or wall_time - wall_time != 0.0:
                    if not self._point_ok(tag, step, wall_time):
                        continue
                    column = scalars.get(tag) or batch.column(tag)
                column[0].append(step)
                column[1].append(wall_time)
                column[2].append(value)
                scalar_count += 1
                events: Sequence[TensorBoardEvent] = ()
            else:
                events = self.parser.parse(record.data)
            for event in events:
                if isinstance(event, RestartEvent):
                    # Deliver what came before, then drop this run's points at or after the restart.
                    seq = importer._send(self.delivery, batch, seq, position, scalar_count)
                    scalar_count = 0
                    batch = _Batch(self.run_id, writer)
                    scalars = batch.scalars
                    self.delivery.wait_all()
                    importer._call(
                        connection.runs.PurgeSteps,
                        pb.PurgeStepsRequest(run_id=self.run_id, from_step=event.step),
                    )
                elif isinstance(event, ScalarEvent):
                    if self._point_ok(event.tag, event.step, event.wall_time):
                        column = scalars.get(event.tag) or batch.column(event.tag)
                        column[0].append(event.step)
                        column[1].append(event.wall_time)
                        column[2].append(event.value)
                        scalar_count += 1
                else:
                    self._route(batch, event)
            position = record.offset + _RECORD_OVERHEAD + len(record.data)
            if batch.size + scalar_count * _POINT_BYTES >= importer._batch_bytes:
                seq = importer._send(self.delivery, batch, seq, position, scalar_count)
                scalar_count = 0
                batch = _Batch(self.run_id, writer)
                scalars = batch.scalars
                importer._progress(position - reported, self.report.events)
                reported = position
        if batch.points or scalar_count or reader.position > cursor.position:
            importer._send(self.delivery, batch, seq, max(position, reader.position), scalar_count)
        else:
            self.report.up_to_date_files += 1
        importer._progress(path.stat().st_size - reported, self.report.events)

    def _route(self, batch: _Batch, event: TensorBoardEvent) -> None:
        """Everything but scalars and restarts: histograms, PR curves, texts, run-level events."""
        if isinstance(event, HistogramEvent):
            if self._point_ok(event.tag, event.step, event.wall_time):
                if (problem := histogram_problem(event)) is not None:
                    self._reject(f"histogram {problem}")
                else:
                    batch.add_entry("histograms", event.tag, histogram_to_proto(event))
                    self.report.imported["histograms"] += 1
        elif isinstance(event, PrCurveEvent):
            if self._point_ok(event.tag, event.step, event.wall_time):
                if not 1 <= event.num_thresholds <= limits.MAX_PR_THRESHOLDS or np.isinf(event.data).any():
                    self._reject("PR curve with infinite values or too many thresholds")
                else:
                    batch.add_entry(
                        "pr_curves", event.tag, pr_curve_to_proto(event.step, event.wall_time, event.data)
                    )
                    self.report.imported["pr_curves"] += 1
        elif isinstance(event, TextEvent):
            if self._point_ok(event.tag, event.step, event.wall_time):
                if "\x00" in event.text or len(event.text) > limits.MAX_TEXT_LENGTH:
                    self._reject("text with a NUL character or over the length limit")
                else:
                    batch.add_entry(
                        "texts",
                        event.tag,
                        pb.Text(step=event.step, wall_time=event.wall_time, text=event.text),
                    )
                    self.report.imported["texts"] += 1
        elif isinstance(event, HParamsEvent | SessionEndEvent):
            self._learn([event])
            if isinstance(event, HParamsEvent):
                self.report.imported["hparams"] += 1
        elif isinstance(event, SkippedEvent):
            self.report.skipped[event.what] += 1


def _records(path: Path, *, stop: int) -> Iterator[Any]:
    """The records of ``path`` before byte ``stop`` (already imported), damage ignored."""
    for record in RecordReader(path):
        if record.offset >= stop:
            return
        yield record

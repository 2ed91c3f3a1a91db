"""Importing TensorBoard logdirs end to end: event files written by torch's and tensorboardX's
SummaryWriter are imported by ``tracker import tensorboard`` (a subprocess) or by ``Importer``, read
back through ``tracker.Api`` and compared value for value with what TensorBoard's own readers
(``plugin_event_accumulator`` and the legacy ``event_accumulator``) read from the same files. Then
importing again, files that grow, purge_step restarts, damaged files, bad input and the progress
bar; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import os
import shutil
import struct
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorboardX
from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.util import tensor_util

import tracker_client as tracker
from tracker_client.channel import Connection
from tracker_server.tensorboard.importer import Importer, ImportReport

ROOT = Path(__file__).resolve().parent.parent.parent
KEEP_EVERYTHING = dict.fromkeys(event_accumulator.DEFAULT_SIZE_GUIDANCE, 0)
CLI_TIMEOUT = 120
STATUS = {
    api_pb2.STATUS_UNKNOWN: "finished",
    api_pb2.STATUS_SUCCESS: "finished",
    api_pb2.STATUS_FAILURE: "failed",
    api_pb2.STATUS_RUNNING: "running",
}


def _torch_writer() -> Any:
    return pytest.importorskip("torch.utils.tensorboard").SummaryWriter


# -- what TensorBoard reads --------------------------------------------------------------------------


@dataclass
class Expected:
    """One run as TensorBoard's EventAccumulator reads its folder (purges applied), in Tracker's terms."""

    scalars: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)
    histograms: dict[str, list[Any]] = field(default_factory=dict)  # EventAccumulator HistogramEvents
    pr_curves: dict[str, list[tuple[int, float, np.ndarray]]] = field(default_factory=dict)
    texts: dict[str, list[tuple[int, float, str]]] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    sessions: int = 0
    status: str = "finished"
    images: int = 0

    def tags(self) -> set[tuple[str, str, int]]:
        kinds = (
            (self.scalars, "scalar"),
            (self.histograms, "histogram"),
            (self.pr_curves, "pr_curve"),
            (self.texts, "text"),
        )
        return {(tag, kind, len(items)) for by_tag, kind in kinds for tag, items in by_tag.items() if items}

    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter(hparams=self.sessions)
        for name in ("scalars", "histograms", "pr_curves", "texts"):
            counts[name] = sum(len(items) for items in getattr(self, name).values())
        return +counts


def _hparam(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    return {"number_value": float, "string_value": str, "bool_value": bool}[kind](getattr(value, kind))


class _Reader(plugin_event_accumulator.EventAccumulator):
    """TensorBoard's reader, except that every SessionLog.START is a restart, as in the legacy
    EventAccumulator and torch's documentation of purge_step. (The plugin reader takes a run's first
    START for the session's initial one, and torch writes a START only when it restarts.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen_session_start = True


def read_run(folder: Path) -> Expected:
    """TensorBoard's view of a run folder. plugin_event_accumulator is what TensorBoard serves from:
    every summary as a tensor, a restart purging all of them. Histograms come from the legacy
    EventAccumulator, which keeps TensorBoard's min, max, sum and sum of squares (it purges
    histograms, but not tensors, on a restart); both must agree on which histograms remain."""
    tb = _Reader(str(folder), size_guidance={"tensors": 0})
    tb.Reload()
    legacy = event_accumulator.EventAccumulator(str(folder), size_guidance=KEEP_EVERYTHING)
    legacy.Reload()
    out = Expected()
    for tag in tb.Tags()["tensors"]:
        plugin = tb.SummaryMetadata(tag).plugin_data.plugin_name
        events = [(e.step, e.wall_time, tensor_util.make_ndarray(e.tensor_proto)) for e in tb.Tensors(tag)]
        if plugin == "scalars":
            out.scalars[tag] = [(step, wall, float(array.item())) for step, wall, array in events]
        elif plugin == "histograms":
            out.histograms[tag] = list(legacy.Histograms(tag))
            assert [(e.step, e.wall_time) for e in out.histograms[tag]] == [(s, w) for s, w, _ in events]
        elif plugin == "pr_curves":
            out.pr_curves[tag] = [(step, wall, array.astype(np.float64)) for step, wall, array in events]
        elif plugin == "text":
            out.texts[tag.removesuffix("/text_summary")] = [
                (step, wall, "\n".join(s.decode() for s in array.reshape(-1))) for step, wall, array in events
            ]
        elif plugin == "images":
            out.images += len(events)
        elif plugin != "hparams":  # the hparams plugin's content is read below
            raise AssertionError(f"unexpected plugin {plugin!r} for tag {tag!r}")
    try:
        hparams = tb.PluginTagToContent("hparams")
    except KeyError:
        hparams = {}
    if start := hparams.get("_hparams_/session_start_info"):
        info = plugin_data_pb2.HParamsPluginData.FromString(start).session_start_info
        out.hparams = {name: _hparam(value) for name, value in info.hparams.items()}
        out.sessions = 1
    if end := hparams.get("_hparams_/session_end_info"):
        out.status = STATUS[plugin_data_pb2.HParamsPluginData.FromString(end).session_end_info.status]
    return out


def run_folders(logdir: Path) -> dict[str, Path]:
    """Run name -> folder: every folder holding event files, named by its path below ``logdir``."""
    out = {}
    for folder, _dirs, files in os.walk(logdir):
        if any("tfevents" in name for name in files):
            relative = Path(folder).relative_to(logdir).as_posix()
            out[logdir.name if relative == "." else relative] = Path(folder)
    return out


def read_logdir(logdir: Path) -> dict[str, Expected]:
    return {name: read_run(folder) for name, folder in run_folders(logdir).items()}


def event_files(logdir: Path) -> list[Path]:
    return sorted(p for p in logdir.rglob("*") if "tfevents" in p.name)


def total_counts(expected: dict[str, Expected]) -> Counter[str]:
    return sum((e.counts() for e in expected.values()), Counter())


# -- what Tracker stored --------------------------------------------------------------------------------


def _same(got: float, want: float) -> bool:
    return got == want or (math.isnan(got) and math.isnan(want))


def _by_step(items: list[Any], step: Any = lambda item: item[0]) -> list[Any]:
    return sorted(items, key=step)  # stable: equal steps in the order they were logged


def assert_run(api: tracker.Api, run: Any, want: Expected, *, status: bool = True) -> None:
    name = run.name
    assert {(t.tag, t.kind, t.count) for t in api.tags(run.id)} == want.tags(), name
    for tag, points in want.scalars.items():
        series = api.scalars(run.id, tag)
        ordered = _by_step(points)
        steps = np.array([p[0] for p in ordered], dtype=np.int64)
        walls = np.array([p[1] for p in ordered], dtype=np.float64)
        values = np.array([p[2] for p in ordered], dtype=np.float64)
        np.testing.assert_array_equal(series.steps, steps, err_msg=f"{name} {tag}")
        assert series.wall_times.tobytes() == walls.tobytes(), (name, tag)
        assert series.values.tobytes() == values.tobytes(), (name, tag)  # bit-exact, NaN and -0.0 included
    for tag, events in want.histograms.items():
        stored = api.histograms(run.id, tag)
        assert len(stored) == len(events), (name, tag)
        for got, event in zip(stored, _by_step(events, lambda e: e.step), strict=True):
            h = event.histogram_value
            where = (name, tag, event.step)
            assert (got.step, got.wall_time) == (event.step, event.wall_time), where
            for mine, theirs in (
                ("count", "num"),
                ("min", "min"),
                ("max", "max"),
                ("sum", "sum"),
                ("sum_squares", "sum_squares"),
            ):
                assert _same(getattr(got, mine), getattr(h, theirs)), (*where, mine)
            limits, counts = list(h.bucket_limit), list(h.bucket)
            assert got.nan_count == max(0.0, h.num - sum(counts)), where
            if counts[0] != 0:  # Tracker's layout: an empty first bucket whose limit is the left edge
                limits = [min(h.min, limits[0]) if math.isfinite(h.min) else limits[0], *limits]
                counts = [0.0, *counts]
            assert got.bucket_limits.tolist() == limits, where
            assert got.bucket_counts.tolist() == counts, where
    for tag, curves in want.pr_curves.items():
        stored = api.pr_curves(run.id, tag)
        assert len(stored) == len(curves), (name, tag)
        for got, (step, wall, data) in zip(stored, _by_step(curves), strict=True):
            assert (got.step, got.wall_time, got.num_thresholds) == (step, wall, data.shape[1]), (name, tag)
            rows = np.stack(
                [
                    got.true_positives,
                    got.false_positives,
                    got.true_negatives,
                    got.false_negatives,
                    got.precision,
                    got.recall,
                ]
            )
            np.testing.assert_array_equal(rows, data, err_msg=f"{name} {tag} {step}")
    for tag, texts in want.texts.items():
        stored = [(t.step, t.wall_time, t.text) for t in api.texts(run.id, tag)]
        assert stored == _by_step(texts), (name, tag)
    assert run.hparams == want.hparams, name
    assert {k: type(v) for k, v in run.hparams.items()} == {k: type(v) for k, v in want.hparams.items()}, name
    if status:
        assert run.status == want.status, name


def assert_stored(
    api: tracker.Api, project: str, expected: dict[str, Expected], *, status: bool = True
) -> None:
    runs = {r.name: r for r in api.runs(project)}
    assert sorted(runs) == sorted(expected)
    for name, want in expected.items():
        assert_run(api, runs[name], want, status=status)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tracker_server.cli", "import", "tensorboard", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=ROOT, check=False)


def import_with_class(address: str, logdir: Path, project: str) -> ImportReport:
    with Connection(address) as connection:
        return Importer(connection, project).import_logdir(logdir)


# -- writing logdirs -------------------------------------------------------------------------------------


def _hparams_summary(tag: str, data: plugin_data_pb2.HParamsPluginData) -> Summary:
    plugin = SummaryMetadata.PluginData(plugin_name="hparams", content=data.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def session_start(hparams: dict[str, Any]) -> Summary:
    """The hparams plugin's session start, as tensorboard.plugins.hparams.summary writes it."""
    info = plugin_data_pb2.SessionStartInfo()
    for name, value in hparams.items():
        if isinstance(value, bool):
            info.hparams[name].bool_value = value
        elif isinstance(value, str):
            info.hparams[name].string_value = value
        else:
            info.hparams[name].number_value = value
    return _hparams_summary(
        "_hparams_/session_start_info", plugin_data_pb2.HParamsPluginData(session_start_info=info)
    )


def session_end(status: int) -> Summary:
    info = plugin_data_pb2.SessionEndInfo(status=status)
    return _hparams_summary(
        "_hparams_/session_end_info", plugin_data_pb2.HParamsPluginData(session_end_info=info)
    )


def sort_last(new: Path, older: list[Path]) -> None:
    """TensorBoard and the importer read a run's files in name order, which is creation order unless
    two torch writers opened in the same second got uids 9 and 10: then date the new file a second later."""
    if all(new.name > old.name for old in older):
        return
    parts = new.name.split(".")  # events.out.tfevents.<seconds>.<host>.<pid>.<uid>
    parts[3] = f"{max(int(old.name.split('.')[3]) for old in older) + 1:010d}"
    new.rename(new.with_name(".".join(parts)))


SPECIAL = [math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4e38, 1 / 3, -2.5e-8]
PR_RAW = {
    "true_positive_counts": np.array([10.0, 8, 5, 2, 0]),
    "false_positive_counts": np.array([10.0, 5, 2, 1, 0]),
    "true_negative_counts": np.array([0.0, 5, 8, 9, 10]),
    "false_negative_counts": np.array([0.0, 2, 5, 8, 10]),
    "precision": np.array([0.5, 8 / 13, 5 / 7, 2 / 3, 1.0]),
    "recall": np.array([1.0, 0.8, 0.5, 0.2, 0.0]),
}
# What TensorBoard purges from mnist/lr0.01 when the second writer restarts at step 50.
TORCH_PURGED = Counter(scalars=50, histograms=1, texts=1, pr_curves=1)


def write_torch_logdir(root: Path) -> None:
    writer = _torch_writer()
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    predictions = rng.uniform(size=200)
    with writer(str(root)) as top:  # files directly in LOGDIR: the run takes LOGDIR's name
        for step in range(5):
            top.add_scalar("epoch_time", 10.0 + step / 3, step)

    w = writer(str(root / "mnist" / "lr0.1"))
    for step in range(300):
        w.add_scalar("train/loss", float(np.exp(-step / 50) + rng.normal(0, 0.01)), step)
        w.add_scalar("train/acc", float(rng.uniform()), step, new_style=True)
        w.add_scalar("train/grad_norm", float(rng.lognormal()), step, new_style=True, double_precision=True)
        if step % 25 == 0:
            w.add_scalars("losses", {"train": float(rng.normal()), "val": float(rng.normal())}, step)
    for step, value in enumerate(SPECIAL):
        w.add_scalar("special", value, step)
        w.add_scalar("special_new", value, step, new_style=True)
        w.add_scalar("special_double", value, step, new_style=True, double_precision=True)
    w.add_scalar("train/loss", 0.125, 2**40, walltime=1_700_000_000.123456)  # a huge step, a given wall time
    w.add_scalar("train/loss", 0.25, 17)  # step 17 again: both points are kept
    w.add_scalar("edge/last_step", 0.0625, 2**63 - 1)  # the largest step there is
    w.add_scalar("損失/ünïcödé", 1.5, 3)
    w.add_scalar("long/" + "x" * 200, 2.5, 4)  # a tag too long for a one-byte length
    for step in (0, 100, 200):
        w.add_histogram("weights/fc1", rng.normal(size=2000) * (1 + step / 100), step)
    w.add_histogram("weights/with_nan", np.array([0.5, np.nan, 1.5, 2.5, np.nan, -3.0]), 3)
    w.add_histogram_raw(  # a first bucket that is not empty, and num above the bucket total (a NaN)
        "raw", -1.0, 3.0, 10, 6.5, 20.25, [0.0, 1.0, 2.0, 3.0], [2, 3, 4, 0], global_step=7
    )
    for step in (1, 2):
        w.add_pr_curve("pr/val", labels, predictions**step, step, num_thresholds=11)
    w.add_pr_curve_raw("pr/raw", **PR_RAW, global_step=4, num_thresholds=5)
    w.add_text("notes", "**Markdown**, ünïcödé ✓\nsecond line", 0)
    w.add_text("notes", "later", 150)
    for step in (0, 1):
        w.add_image("samples", rng.uniform(size=(3, 8, 8)), step)
    w.add_hparams(  # torch writes the bool as the number 1.0 and every number as a float
        {"lr": 0.1, "batch": 64, "optimizer": "adam", "nesterov": True},
        {"hp/final_loss": 0.25},
        run_name="hp",
    )
    w.add_hparams({"lr": 0.1, "wd": 1e-4}, {"hp/best_acc": 0.875})  # into a folder named by the time
    w.close()

    restarted = root / "mnist" / "lr0.01"
    with writer(str(restarted)) as w:
        for step in range(100):
            w.add_scalar("train/loss", 1.0 - step / 200, step)
        for step in (20, 60):
            w.add_histogram("weights/fc1", rng.normal(size=100), step)
        w.add_text("notes", "early", 10)
        w.add_text("notes", "before the crash", 70)
        w.add_pr_curve("pr/val", labels, predictions, 30, num_thresholds=5)
        w.add_pr_curve("pr/val", labels, predictions**2, 80, num_thresholds=5)
    older = event_files(restarted)
    with writer(str(restarted), purge_step=50) as w:  # resumed from the checkpoint of step 50
        for step in range(50, 120):
            w.add_scalar("train/loss", 2.0 + step / 200, step)
        w.add_histogram("weights/fc1", rng.normal(size=100), 55)
    (new,) = set(event_files(restarted)) - set(older)
    sort_last(new, older)

    for name, status in (("failed", api_pb2.STATUS_FAILURE), ("unknown", api_pb2.STATUS_UNKNOWN)):
        with writer(str(root / "sweep" / name)) as w:
            w.add_scalar("loss", math.nan if name == "failed" else 0.5, 3)
            w.file_writer.add_summary(
                session_start({"lr": 0.3, "optimizer": "sgd", "augment": name == "unknown", "depth": 4})
            )
            w.file_writer.add_summary(session_end(status))


def write_tensorboardx_logdir(root: Path) -> None:
    rng = np.random.default_rng(1)
    w = tensorboardX.SummaryWriter(str(root / "run1"))
    for step in range(200):
        w.add_scalar("loss", float(rng.normal()), step)
        w.add_scalar(
            "lr", 0.1 * 0.99**step, step, display_name="learning rate", summary_description="schedule"
        )
        if step % 50 == 0:
            w.add_scalars(
                "metrics", {"precision": float(rng.uniform()), "recall": float(rng.uniform())}, step
            )
    for step, value in enumerate(SPECIAL):
        w.add_scalar("special", value, step)
    for step in (0, 100):
        w.add_histogram("weights", rng.normal(size=500), step)
    w.add_histogram_raw("raw", 0.5, 2.5, 7, 10.0, 17.0, [1.0, 2.0, 3.0], [1, 2, 3], global_step=3)
    w.add_pr_curve("pr", rng.integers(0, 2, 100), rng.uniform(size=100), 5, num_thresholds=21)
    w.add_pr_curve_raw("pr_raw", **PR_RAW, global_step=6, num_thresholds=5)
    w.add_text("notes", "tensorboardX says ✓", 1)
    w.add_image("img", rng.uniform(size=(3, 4, 4)), 0)
    w.add_hparams(
        {"lr": 0.01, "optimizer": "adam", "amsgrad": False, "layers": 3}, {"hp/acc": 0.5}, name="hp"
    )
    w.close()

    folder = root / "run2" / "seed0"
    with tensorboardX.SummaryWriter(str(folder)) as first:
        for step in range(40):
            first.add_scalar("loss", float(step), step)
    # tensorboardX names files by the second only: a suffix keeps the second file apart, and after.
    with tensorboardX.SummaryWriter(str(folder), purge_step=25, filename_suffix=".restart") as second:
        for step in range(25, 60):
            second.add_scalar("loss", -float(step), step)


@pytest.fixture(scope="module")
def torch_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    logdir = tmp_path_factory.mktemp("pristine") / "torch_logs"
    write_torch_logdir(logdir)
    return logdir, read_logdir(logdir)


@pytest.fixture(scope="module")
def tensorboardx_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    logdir = tmp_path_factory.mktemp("pristine") / "tbx_logs"
    write_tensorboardx_logdir(logdir)
    return logdir, read_logdir(logdir)


def _copy(logdir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(logdir, tmp_path / logdir.name))


# -- importing whole logdirs ----------------------------------------------------------------------------


def test_the_reference_logdirs_hold_what_the_tests_rely_on(
    torch_logs: tuple[Path, dict[str, Expected]], tensorboardx_logs: tuple[Path, dict[str, Expected]]
) -> None:
    """Guards the comparisons below against a writer that stops writing something."""
    _, torch_runs = torch_logs
    names = set(torch_runs)
    hparams_folder = next(
        n for n in names if n.startswith("mnist/lr0.1/") and n[len("mnist/lr0.1/") :][0].isdigit()
    )
    assert names == {
        "torch_logs",
        "mnist/lr0.1",
        "mnist/lr0.1/losses_train",
        "mnist/lr0.1/losses_val",
        "mnist/lr0.1/hp",
        hparams_folder,
        "mnist/lr0.01",
        "sweep/failed",
        "sweep/unknown",
    }
    main = torch_runs["mnist/lr0.1"]
    assert set(main.scalars) >= {"train/loss", "train/acc", "train/grad_norm", "special", "special_new"}
    assert set(main.histograms) == {"weights/fc1", "weights/with_nan", "raw"}
    assert set(main.pr_curves) == {"pr/val", "pr/raw"} and set(main.texts) == {"notes"}
    assert main.images == 2 and main.hparams == {}
    assert main.scalars["edge/last_step"] == [(2**63 - 1, main.scalars["edge/last_step"][0][1], 0.0625)]
    assert {"損失/ünïcödé", "long/" + "x" * 200} <= set(main.scalars)
    assert torch_runs["sweep/unknown"].hparams["augment"] is True
    assert torch_runs["mnist/lr0.1/hp"].hparams == {
        "lr": 0.1,
        "batch": 64.0,
        "optimizer": "adam",
        "nesterov": 1.0,
    }
    assert torch_runs[hparams_folder].hparams == {"lr": 0.1, "wd": 1e-4}
    assert torch_runs["sweep/failed"].status == "failed"
    assert torch_runs["sweep/failed"].hparams == {
        "lr": 0.3,
        "optimizer": "sgd",
        "augment": False,
        "depth": 4.0,
    }
    restarted = torch_runs["mnist/lr0.01"]
    loss = restarted.scalars["train/loss"]
    assert [p[0] for p in loss] == [*range(50), *range(50, 120)]  # steps 50-99 of the first file are purged
    assert [p[2] for p in loss[50:]] == [np.float32(2.0 + s / 200) for s in range(50, 120)]
    assert [e.step for e in restarted.histograms["weights/fc1"]] == [20, 55]
    assert [t[0] for t in restarted.texts["notes"]] == [10]
    assert [c[0] for c in restarted.pr_curves["pr/val"]] == [30]
    nan_histogram = main.histograms["weights/with_nan"][0].histogram_value
    assert nan_histogram.num - sum(nan_histogram.bucket) == 2  # two NaNs in no bucket
    assert main.scalars["special_double"][6][2] == 1 / 3  # double precision kept

    _, tbx_runs = tensorboardx_logs
    assert set(tbx_runs) == {"run1", "run1/metrics/precision", "run1/metrics/recall", "run1/hp", "run2/seed0"}
    assert tbx_runs["run1/hp"].hparams == {"lr": 0.01, "optimizer": "adam", "amsgrad": False, "layers": 3.0}
    assert [p[2] for p in tbx_runs["run2/seed0"].scalars["loss"]] == [
        *map(float, range(25)),
        *(-float(s) for s in range(25, 60)),
    ]


def test_the_cli_imports_a_torch_logdir_exactly_and_a_second_import_adds_nothing(
    address: str, torch_logs: tuple[Path, dict[str, Expected]], tmp_path: Path
) -> None:
    pristine, expected = torch_logs
    logdir = _copy(pristine, tmp_path)
    files = len(event_files(logdir))
    counts = total_counts(expected) + TORCH_PURGED  # the purged events were imported, then purged

    first = run_cli(logdir, "--server", address, "--quiet")
    assert first.returncode == 0, first.stderr
    assert f"Importing {len(expected)} runs ({files} event files" in first.stderr
    assert "into project 'torch_logs'" in first.stderr
    assert "warning" not in first.stderr and "events=" not in first.stderr  # --quiet: no progress bar
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(counts.items()))
    assert f"Imported {len(expected)} runs from {files} files: {kinds} (" in first.stdout
    assert "Not imported (Tracker does not store these yet): 2 image." in first.stdout
    with tracker.Api(server=address) as api:
        assert [p.name for p in api.projects()] == ["torch_logs"]
        assert_stored(api, "torch_logs", expected)

    second = run_cli(logdir, "--server", address, "--quiet")
    assert second.returncode == 0, second.stderr
    assert f"Imported {len(expected)} runs from {files} files: nothing new (" in second.stdout
    assert f"{files} files were already imported up to their end." in second.stdout
    assert "Not imported" not in second.stdout
    with tracker.Api(server=address) as api:
        # Everything once. The status of sweep/failed is not compared here: see
        # test_a_second_import_keeps_the_status_from_the_session_end.
        assert_stored(api, "torch_logs", expected, status=False)


def test_the_importer_imports_a_tensorboardx_logdir_exactly_into_the_given_project(
    address: str, tensorboardx_logs: tuple[Path, dict[str, Expected]], tmp_path: Path
) -> None:
    pristine, expected = tensorboardx_logs
    logdir = _copy(pristine, tmp_path)
    report = import_with_class(address, logdir, "tbx-project")
    purged = Counter(scalars=15)  # loss 25..39 of run2/seed0's first file
    assert (report.runs, report.files) == (len(expected), len(event_files(logdir)))
    assert report.imported == total_counts(expected) + purged
    assert report.skipped == Counter(image=1) and report.problems == []
    with tracker.Api(server=address) as api:
        assert [p.name for p in api.projects()] == ["tbx-project"]
        assert_stored(api, "tbx-project", expected)

    again = import_with_class(address, logdir, "tbx-project")
    assert again.events == 0 and again.up_to_date_files == again.files == report.files
    assert again.problems == [] and not again.skipped
    with tracker.Api(server=address) as api:
        assert_stored(api, "tbx-project", expected)


# -- files that grow, restarts ----------------------------------------------------------------------------


def test_a_growing_file_imports_only_its_new_events_and_a_restart_purges(
    address: str, tmp_path: Path
) -> None:
    writer = _torch_writer()
    logdir = tmp_path / "live"
    folder = logdir / "job"
    rng = np.random.default_rng(5)

    def check(report: ImportReport, new: Counter[str]) -> None:
        assert report.imported == new and report.problems == []
        with tracker.Api(server=address) as api:
            (run,) = api.runs("live")
            assert run.name == "job"
            assert_run(api, run, read_run(folder))

    w = writer(str(folder))
    for step in range(100):
        w.add_scalar("loss", float(rng.normal()), step)
        if step % 25 == 0:
            w.add_histogram("weights", rng.normal(size=200), step)
    w.flush()  # training goes on: the file stays open
    check(import_with_class(address, logdir, "live"), Counter(scalars=100, histograms=4))

    for step in range(100, 160):
        w.add_scalar("loss", float(rng.normal()), step)
    w.add_text("notes", "epoch 2", 150)
    w.flush()
    check(import_with_class(address, logdir, "live"), Counter(scalars=60, texts=1))
    w.close()

    older = event_files(folder)
    with writer(str(folder), purge_step=130) as w:  # crashed, resumed from the checkpoint of step 130
        for step in range(130, 170):
            w.add_scalar("loss", 100.0 + step, step)
        w.add_text("notes", "resumed", 131)
    (new,) = set(event_files(folder)) - set(older)
    sort_last(new, older)
    check(import_with_class(address, logdir, "live"), Counter(scalars=40, texts=1))
    with tracker.Api(server=address) as api:
        (run,) = api.runs("live")
        loss = api.scalars(run.id, "loss")
        assert loss.steps.tolist() == list(range(170))  # steps 130-159 of the first file are gone
        assert loss.values[130:].tolist() == [100.0 + s for s in range(130, 170)]
        assert [(t.step, t.text) for t in api.texts(run.id, "notes")] == [(131, "resumed")]
        assert {t.tag: t.count for t in api.tags(run.id)} == {"loss": 170, "weights": 4, "notes": 1}

    last = import_with_class(address, logdir, "live")
    assert last.events == 0 and last.up_to_date_files == 2
    check(last, Counter())


# -- damage ------------------------------------------------------------------------------------------------


def record_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every record of an undamaged TFRecord file."""
    spans, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        spans.append((pos, pos + 12 + length + 4))
        pos = spans[-1][1]
    assert pos == len(data)
    return spans


def _payload(data: bytes, span: tuple[int, int]) -> Event:
    return Event.FromString(data[span[0] + 12 : span[1] - 4])


def test_damaged_files_are_reported_with_file_and_offset_and_the_rest_is_imported(
    address: str, tmp_path: Path
) -> None:
    writer = _torch_writer()
    rng = np.random.default_rng(9)
    logdir = tmp_path / "damaged"
    names = ("clean", "flip", "garbage", "length", "truncated")
    for name in names:
        with writer(str(logdir / name)) as w:
            for step in range(40):
                w.add_scalar("loss", float(rng.normal()), step)
                if step % 10 == 5:
                    w.add_histogram("weights", rng.normal(size=300), step)
            w.add_text("notes", f"the end of {name}", 40)
    originals = {name: event_files(logdir / name)[0] for name in names}
    data = {name: path.read_bytes() for name, path in originals.items()}
    spans = {name: record_spans(data[name]) for name in names}
    flip_events = [_payload(data["flip"], span) for span in spans["flip"]]
    histogram_record = next(
        i for i, e in enumerate(flip_events) if e.summary.value and e.summary.value[0].HasField("histo")
    )
    assert _payload(data["length"], spans["length"][10]).summary.value[0].HasField("simple_value")
    assert _payload(data["truncated"], spans["truncated"][-1]).summary.value[0].tag == "notes/text_summary"

    # What each file keeps: every record but the damaged one.
    kept = {name: list(range(len(spans[name]))) for name in names}
    problems: dict[str, tuple[int, str, int]] = {}  # name -> (offset, kind, bytes skipped)

    start, end = spans["flip"][histogram_record]  # a data byte of a histogram: its data CRC fails
    damaged = bytearray(data["flip"])
    damaged[(start + 12 + end - 4) // 2] ^= 0xFF
    originals["flip"].write_bytes(damaged)
    kept["flip"].remove(histogram_record)
    problems["flip"] = (start, "corrupt", end - start)

    start, end = spans["length"][10]  # a length byte of a scalar's header: its length CRC fails
    damaged = bytearray(data["length"])
    damaged[start + 1] ^= 0x01
    originals["length"].write_bytes(damaged)
    kept["length"].remove(10)
    problems["length"] = (start, "corrupt", end - start)

    garbage = bytes(range(200, 237))  # 37 bytes between records 20 and 21: no record is lost
    at = spans["garbage"][20][1]
    originals["garbage"].write_bytes(data["garbage"][:at] + garbage + data["garbage"][at:])
    problems["garbage"] = (at, "corrupt", len(garbage))

    start, end = spans["truncated"][-1]  # the writer was cut off in the middle of the last record
    cut = start + 12 + 5
    originals["truncated"].write_bytes(data["truncated"][:cut])
    kept["truncated"].pop()
    problems["truncated"] = (start, "truncated", cut - start)

    reference = tmp_path / "reference" / "damaged"  # the same runs holding only the kept records
    for name in names:
        (reference / name).mkdir(parents=True)
        (reference / name / originals[name].name).write_bytes(
            b"".join(data[name][spans[name][i][0] : spans[name][i][1]] for i in kept[name])
        )
    expected = read_logdir(reference)
    assert expected["length"].counts()["scalars"] == 39 and expected["flip"].counts()["histograms"] == 3

    result = run_cli(logdir, "--server", address, "--quiet")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(problems), result.stderr
    for name, (offset, kind, skipped) in problems.items():
        path = logdir.resolve() / name / originals[name].name
        prefix = f"warning: {path} at byte {offset}: {kind} record ("
        line = next((w for w in warnings if w.startswith(prefix)), None)
        assert line is not None, (prefix, result.stderr)
        assert line.endswith(f"); {skipped:,} bytes skipped, the rest imported"), line
    assert f"Imported {len(names)} runs from {len(names)} files: " in result.stdout
    with tracker.Api(server=address) as api:
        assert_stored(api, "damaged", expected)

    # The writer finishes the record it was writing: the next import picks it up, and nothing else.
    with originals["truncated"].open("ab") as file:
        file.write(data["truncated"][cut:])
    again = import_with_class(address, logdir, "damaged")
    assert again.imported == Counter(texts=1) and again.problems == []
    expected["truncated"] = read_run(originals["truncated"].parent)
    with tracker.Api(server=address) as api:
        assert_stored(api, "damaged", expected)


# -- the command line: bad input and progress ------------------------------------------------------------


def test_a_missing_or_empty_logdir_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    missing = run_cli(tmp_path / "nowhere", "--server", "127.0.0.1:1", "--quiet")
    assert missing.returncode == 2
    assert f"{tmp_path / 'nowhere'} is not a directory" in missing.stderr and missing.stdout == ""

    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "notes.txt").write_text("no event files here")
    (empty / "checkpoint.pt").write_bytes(b"\x00" * 64)
    nothing = run_cli(empty, "--server", "127.0.0.1:1", "--quiet")
    assert nothing.returncode == 2
    assert f"no TensorBoard event files (*tfevents*) under {empty}" in nothing.stderr and nothing.stdout == ""

    a_file = tmp_path / "events.out.tfevents.123.host"
    a_file.write_bytes(b"")
    not_dir = run_cli(a_file, "--server", "127.0.0.1:1", "--quiet")
    assert not_dir.returncode == 2 and "is not a directory" in not_dir.stderr


def write_scalars_file(path: Path, tags: dict[str, np.ndarray], wall_time: float) -> None:
    """A plain event file written with TensorBoard's own record framing: one event per point."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        records = RecordWriter(file)
        records.write(Event(wall_time=wall_time, file_version="brain.Event:2").SerializeToString())
        for step in range(len(next(iter(tags.values())))):
            for tag, values in tags.items():
                value = Summary.Value(tag=tag, simple_value=float(values[step]))
                event = Event(wall_time=wall_time + step / 8, step=step, summary=Summary(value=[value]))
                records.write(event.SerializeToString())


def test_the_progress_bar_shows_the_events_imported(address: str, tmp_path: Path) -> None:
    n = 5000
    rng = np.random.default_rng(2)
    tags = {"loss": rng.normal(size=n).astype(np.float32), "acc": rng.uniform(size=n).astype(np.float32)}
    logdir = tmp_path / "big"
    write_scalars_file(logdir / "train" / "events.out.tfevents.1700000000.host", tags, 1_700_000_000.0)
    result = run_cli(logdir, "--server", address, "--project", "progress")
    assert result.returncode == 0, result.stderr
    assert "events=" in result.stderr
    assert f"events={2 * n:,}" in result.stderr  # the bar's last state: every event
    assert f"Imported 1 runs from 1 files: {2 * n:,} scalars (" in result.stdout
    expected = read_logdir(logdir)
    with tracker.Api(server=address) as api:
        assert [p.name for p in api.projects()] == ["progress"]
        assert_stored(api, "progress", expected)
        (run,) = api.runs("progress")
        assert api.scalars(run.id, "loss").values.tolist() == tags["loss"].astype(np.float64).tolist()


# -- the status of a run ---------------------------------------------------------------------------------


def _session_logdir(root: Path, statuses: dict[str, int]) -> Path:
    writer = _torch_writer()
    for name, status in statuses.items():
        with writer(str(root / name)) as w:
            w.add_scalar("loss", 0.5, 1)
            w.file_writer.add_summary(session_start({"name": name}))
            w.file_writer.add_summary(session_end(status))
    return root


def test_the_session_end_sets_the_status(address: str, tmp_path: Path) -> None:
    statuses = {
        "ok": api_pb2.STATUS_SUCCESS,
        "bad": api_pb2.STATUS_FAILURE,
        "unknown": api_pb2.STATUS_UNKNOWN,
    }
    logdir = _session_logdir(tmp_path / "sessions", statuses)
    write_scalars_file(
        logdir / "no_session" / "events.out.tfevents.1700000000.host", {"x": np.ones(3)}, 1.7e9
    )
    import_with_class(address, logdir, "sessions")
    with tracker.Api(server=address) as api:
        got = {r.name: r.status for r in api.runs("sessions")}
    assert got == {"ok": "finished", "bad": "failed", "unknown": "finished", "no_session": "finished"}


def test_a_second_import_keeps_the_status_from_the_session_end(address: str, tmp_path: Path) -> None:
    logdir = _session_logdir(tmp_path / "sessions", {"bad": api_pb2.STATUS_FAILURE})
    import_with_class(address, logdir, "sessions")
    with tracker.Api(server=address) as api:
        assert [r.status for r in api.runs("sessions")] == ["failed"]
    import_with_class(address, logdir, "sessions")
    with tracker.Api(server=address) as api:
        assert [r.status for r in api.runs("sessions")] == ["failed"]


def test_a_session_that_is_still_running_leaves_the_run_running(address: str, tmp_path: Path) -> None:
    logdir = _session_logdir(
        tmp_path / "sessions", {"a_live": api_pb2.STATUS_RUNNING, "b_done": api_pb2.STATUS_SUCCESS}
    )
    result = run_cli(logdir, "--server", address, "--quiet")
    assert result.returncode == 0, result.stderr
    with tracker.Api(server=address) as api:
        assert {r.name: r.status for r in api.runs("sessions")} == {"a_live": "running", "b_done": "finished"}


def test_no_event_file_is_dropped_when_a_subfolder_is_named_like_the_logdir(
    address: str, tmp_path: Path
) -> None:
    writer = _torch_writer()
    logdir = tmp_path / "exp"
    with writer(str(logdir)) as w:
        w.add_scalar("top", 1.0, 0)
    with writer(str(logdir / "exp")) as w:
        w.add_scalar("nested", 2.0, 0)
    report = import_with_class(address, logdir, "exp")
    assert report.files == 2
    with tracker.Api(server=address) as api:
        assert {r.name: {t.tag for t in api.tags(r.id)} for r in api.runs("exp")} == {
            ".": {"top"},
            "exp": {"nested"},
        }


REFUSED_VALUES = {  # valid TensorBoard data that Tracker's server does not accept as it is
    "negative-step": lambda w: w.add_scalar("loss", 1.0, -1),
    "nul-in-text": lambda w: w.add_text("notes", "a\x00b", 1),
    "buckets-above-num": lambda w: w.add_histogram_raw(
        "raw", 0.0, 3.0, 2, 1.0, 1.0, [1.0, 2.0, 3.0], [1, 2, 3], global_step=1
    ),
}


@pytest.mark.parametrize("refused", list(REFUSED_VALUES))
def test_a_value_the_server_refuses_does_not_stop_the_import(
    address: str, tmp_path: Path, refused: str
) -> None:
    writer = _torch_writer()
    logdir = tmp_path / "odd"
    for name in ("a_before", "b_odd", "c_after"):
        with writer(str(logdir / name)) as w:
            for step in range(10):
                w.add_scalar("good", step / 7, step)
            if name == "b_odd":
                REFUSED_VALUES[refused](w)
            for step in range(10, 20):
                w.add_scalar("good", step / 7, step)
    report = import_with_class(address, logdir, "odd")
    assert report.runs == 3
    assert sum(report.rejected.values()) == 1, report.rejected
    with tracker.Api(server=address) as api:
        runs = {r.name: r for r in api.runs("odd")}
        assert sorted(runs) == ["a_before", "b_odd", "c_after"]
        for name, run in runs.items():
            assert run.status == "finished", name
            want = read_run(logdir / name).scalars["good"]
            got = api.scalars(run.id, "good")
            assert got.steps.tolist() == [p[0] for p in want] and got.values.tolist() == [p[2] for p in want]

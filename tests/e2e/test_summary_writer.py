"""The drop-in's acceptance test: a training script written for torch's SummaryWriter runs unchanged
with ``tracker_client.SummaryWriter``, and what Tracker stored equals, value for value, what torch's
own writer wrote into event files for the same seeded script.

The script (``torch_script.train``) is one function object run twice, only the class differs. The
event files are read with TensorBoard's own EventAccumulator (everything kept, TensorBoard's purge
semantics applied), independently of Tracker's importer. Where Tracker differs on purpose (see
``tracker_client.summary_writer``'s docstring) the comparison says so: torch rounds legacy scalars
and PR curves to float32, appends "/text_summary" to text tags, stores hyperparameters as floats on
a timestamp-named sub-run, and writes one layout event per ``add_custom_scalars*`` call.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tracker_client as tracker
from tracker_client import SummaryWriter as TrackerSummaryWriter
from tracker_client.records import RunRecord

torch = pytest.importorskip("torch")
torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
event_file_loader = pytest.importorskip("tensorboard.backend.event_processing.event_file_loader")

from tensorboard.plugins.custom_scalar import layout_pb2  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2  # noqa: E402
from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_curve_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

from tests.e2e import torch_script  # noqa: E402

TEXT_SUFFIX = "/text_summary"
HPARAMS_START = "_hparams_/session_start_info"
LAYOUT_TAG = "custom_scalars__config__"


# -- reading torch's event files with TensorBoard ------------------------------------------------


@dataclass
class TorchRun:
    """What TensorBoard shows of one run directory (after its purge logic)."""

    scalars: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # (step, wall, value)
    tensor_scalars: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)
    histograms: dict[str, list[Any]] = field(default_factory=dict)
    pr_curves: dict[str, list[tuple[int, float, int, np.ndarray]]] = field(default_factory=dict)
    texts: dict[str, list[tuple[int, float, str]]] = field(default_factory=dict)
    hparams: dict[str, Any] | None = None
    layouts: list[dict[str, dict[str, list[Any]]]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def _layout_dict(layout: Any) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = {}
    for category in layout.category:
        charts = out.setdefault(category.title, {})
        for chart in category.chart:
            if chart.HasField("margin"):
                (series,) = chart.margin.series
                charts[chart.title] = ["Margin", [series.value, series.lower, series.upper]]
            else:
                charts[chart.title] = ["Multiline", list(chart.multiline.tag)]
    return out


def _tensor_events(path: Path) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Every tensor value of a run directory by tag, as (step, wall time, TensorProto), read from
    the raw events in file order, and each tag's plugin data (from its first value). A SessionLog
    START at step T drops what came before at steps >= T, as the legacy EventAccumulator does for
    scalars and histograms (it keeps tensors as they are)."""
    tensors: dict[str, list[Any]] = {}
    plugins: dict[str, Any] = {}
    for file in sorted(path.glob("events.out.tfevents.*")):
        for event in event_file_loader.LegacyEventFileLoader(str(file)).Load():
            if event.HasField("session_log") and event.session_log.status == event.session_log.START:
                tensors = {tag: [e for e in events if e[0] < event.step] for tag, events in tensors.items()}
            for value in event.summary.value:
                if value.HasField("metadata") and value.tag not in plugins:
                    plugins[value.tag] = value.metadata.plugin_data
                if value.HasField("tensor"):
                    tensors.setdefault(value.tag, []).append((event.step, event.wall_time, value.tensor))
    return tensors, plugins


def read_torch_run(path: Path) -> TorchRun:
    """Scalars and histograms through TensorBoard's EventAccumulator; tensors (PR curves, text,
    new-style scalars, layouts) and the hparams plugin's data from the raw events."""
    legacy = event_accumulator.EventAccumulator(
        str(path), size_guidance=event_accumulator.STORE_EVERYTHING_SIZE_GUIDANCE
    )
    legacy.Reload()
    tags = legacy.Tags()
    run = TorchRun(images=list(tags["images"]))
    for tag in tags["scalars"]:
        run.scalars[tag] = [(e.step, e.wall_time, e.value) for e in legacy.Scalars(tag)]
    for tag in tags["histograms"]:
        run.histograms[tag] = list(legacy.Histograms(tag))
    tensors, plugins = _tensor_events(path)
    for tag, events in tensors.items():
        plugin = plugins[tag]
        if plugin.plugin_name == "scalars":  # new_style
            run.tensor_scalars[tag] = [(s, w, tensor_util.make_ndarray(t).item()) for s, w, t in events]
        elif plugin.plugin_name == "pr_curves":
            n = pr_curve_pb2.PrCurvePluginData.FromString(plugin.content).num_thresholds
            run.pr_curves[tag] = [(s, w, n, tensor_util.make_ndarray(t)) for s, w, t in events]
        elif plugin.plugin_name == "text":
            assert tag.endswith(TEXT_SUFFIX)
            run.texts[tag.removesuffix(TEXT_SUFFIX)] = [
                (s, w, tensor_util.make_ndarray(t).item().decode()) for s, w, t in events
            ]
        elif plugin.plugin_name == "custom_scalars":
            assert tag == LAYOUT_TAG
            run.layouts += [_layout_dict(layout_pb2.Layout.FromString(t.string_val[0])) for _, _, t in events]
        else:  # pragma: no cover - the script logs nothing else
            raise AssertionError(f"unexpected tensor plugin {plugin.plugin_name!r} for {tag!r}")
    if HPARAMS_START in plugins:
        start = hparams_pb2.HParamsPluginData.FromString(plugins[HPARAMS_START].content).session_start_info
        run.hparams = {
            name: getattr(value, value.WhichOneof("kind")) for name, value in start.hparams.items()
        }
    return run


def _in_creation_order(directory: Path) -> None:
    """Rename a run's event files so that name order is the order torch created them in.

    torch names them ``events.out.tfevents.<seconds>.<host>.<pid>.<counter>``, and TensorBoard reads
    them in name order: two files of one second whose counters are 9 and 10 would be read the
    wrong way round, and a restart's purge applied before what it purges."""
    files = sorted(
        directory.glob("events.out.tfevents.*"),
        key=lambda f: (int(f.name.split(".")[3]), int(f.name.rsplit(".", 1)[1])),
    )
    for i, file in enumerate(files):
        file.rename(directory / f"events.out.tfevents.{i:04d}")


def torch_runs(root: Path) -> dict[str, TorchRun]:
    """Every run directory under ``root`` (the writer's own is "."), read with TensorBoard."""
    runs = {}
    for directory, _, files in os.walk(root):
        if any(name.startswith("events.out.tfevents") for name in files):
            _in_creation_order(Path(directory))
            runs[os.path.relpath(directory, root)] = read_torch_run(Path(directory))
    return runs


def _is_timestamp(name: str) -> bool:
    try:
        float(name)
    except ValueError:
        return False
    return True


# -- comparing ------------------------------------------------------------------------------------


def _merge_layouts(layouts: list[dict[str, dict[str, list[Any]]]]) -> dict[str, dict[str, list[Any]]]:
    merged: dict[str, dict[str, list[Any]]] = {}
    for layout in layouts:
        for category, charts in layout.items():
            merged.setdefault(category, {}).update(charts)
    return merged


def assert_same_run(
    api: tracker.Api,
    ours: RunRecord,
    theirs: TorchRun,
    *,
    explicit_walltime: Any,
    clock: tuple[float, float],
) -> None:
    """Every scalar, histogram, PR curve and text of ``theirs`` is in ``ours``, value for value,
    and ``ours`` holds nothing else. Wall times are compared exactly where the script gave them
    (``explicit_walltime(tag)``), and otherwise must lie within ``clock``."""
    run_id = ours.id
    kinds = {t.tag: t for t in api.tags(run_id)}

    def check_walls(tag: str, got: np.ndarray, want: list[float]) -> None:
        if explicit_walltime(tag):
            assert got.tolist() == want, tag
        else:
            assert np.all((got >= clock[0]) & (got <= clock[1])), tag

    expected_tags: dict[str, tuple[str, int]] = {}
    for tag, points in [*theirs.scalars.items(), *theirs.tensor_scalars.items()]:
        if not points:  # everything purged
            assert tag not in kinds or kinds[tag].count == 0, tag
            continue
        expected_tags[tag] = ("scalar", len(points))
        series = api.scalars(run_id, tag)
        in_order = sorted(points, key=lambda p: p[0])  # by step, ties in file order (a stable sort)
        assert series.steps.tolist() == [p[0] for p in in_order], tag
        want = np.array([p[2] for p in in_order], dtype=np.float64)
        if torch_script.NEW_STYLE_TAGS.get(tag) == "double":
            np.testing.assert_array_equal(series.values, want, err_msg=tag)  # both keep doubles
        else:  # torch rounded to float32; we kept the double it was given
            np.testing.assert_array_equal(
                series.values.astype(np.float32), want.astype(np.float32), err_msg=tag
            )
        check_walls(tag, series.wall_times, [p[1] for p in in_order])
        summary = kinds[tag].summary
        assert summary is not None
        assert summary.count == len(series)
        assert summary.last_step == series.steps[-1]
        assert summary.last_value == series.values[-1] or (
            math.isnan(summary.last_value) and math.isnan(series.values[-1])
        )
        finite = series.values[~np.isnan(series.values)]
        assert summary.min_value == (finite.min() if finite.size else None), tag
        assert summary.max_value == (finite.max() if finite.size else None), tag
        nonfinite = series.steps[~np.isfinite(series.values)]
        assert summary.first_nonfinite_step == (int(nonfinite.min()) if nonfinite.size else None), tag

    for tag, events in theirs.histograms.items():
        if not events:
            assert tag not in kinds or kinds[tag].count == 0, tag
            continue
        expected_tags[tag] = ("histogram", len(events))
        stored = api.histograms(run_id, tag)
        assert [h.step for h in stored] == [e.step for e in events], tag
        for h, e in zip(stored, events, strict=True):
            want = e.histogram_value
            got = (h.count, h.min, h.max, h.sum, h.sum_squares)
            assert got == (want.num, want.min, want.max, want.sum, want.sum_squares), (tag, h.step)
            assert h.bucket_limits.tolist() == list(want.bucket_limit), (tag, h.step)
            assert h.bucket_counts.tolist() == list(want.bucket), (tag, h.step)
            assert h.nan_count == 0
        check_walls(tag, np.array([h.wall_time for h in stored]), [e.wall_time for e in events])

    for tag, curves in theirs.pr_curves.items():
        if not curves:
            assert tag not in kinds or kinds[tag].count == 0, tag
            continue
        expected_tags[tag] = ("pr_curve", len(curves))
        stored_curves = api.pr_curves(run_id, tag)
        assert [c.step for c in stored_curves] == [c[0] for c in curves], tag
        for c, (step, _, n, data) in zip(stored_curves, curves, strict=True):
            assert c.num_thresholds == n == data.shape[1], (tag, step)
            np.testing.assert_array_equal(c.thresholds, np.arange(n) / (n - 1))
            rows = np.stack(
                [
                    c.true_positives,
                    c.false_positives,
                    c.true_negatives,
                    c.false_negatives,
                    c.precision,
                    c.recall,
                ]
            )
            assert data.dtype == np.float32  # torch stores curves as float32
            np.testing.assert_array_equal(rows.astype(np.float32), data, err_msg=f"{tag} at {step}")
        check_walls(tag, np.array([c.wall_time for c in stored_curves]), [c[1] for c in curves])

    for tag, texts in theirs.texts.items():
        if not texts:
            assert tag not in kinds or kinds[tag].count == 0, tag
            continue
        expected_tags[tag] = ("text", len(texts))
        stored_texts = api.texts(run_id, tag)  # our tag is the user's tag
        assert [(t.step, t.text) for t in stored_texts] == [(s, text) for s, _, text in texts], tag
        check_walls(tag, np.array([t.wall_time for t in stored_texts]), [w for _, w, _ in texts])

    assert {t: (k.kind, k.count) for t, k in kinds.items() if k.count} == expected_tags
    for tag in theirs.images:
        assert tag not in kinds  # media are not stored (yet)


def _hparams_match(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    """Ours keep bools as bools and ints as ints; torch stores every number (bools too) as a float."""
    assert set(ours) == set(theirs)
    for name, value in ours.items():
        if isinstance(value, str):
            assert theirs[name] == value, name
        else:
            assert isinstance(theirs[name], float), name
            assert theirs[name] == float(value), name


# -- the acceptance test ----------------------------------------------------------------------------


@pytest.fixture
def api(address: str) -> Iterator[tracker.Api]:
    with tracker.Api(server=address) as client:
        yield client


def test_the_training_script_stores_what_torchs_writer_wrote(
    address: str, api: tracker.Api, tmp_path: Path
) -> None:
    torch_dir = tmp_path / "torch" / "runs" / "mlp"
    torch_result = torch_script.train(torch_tensorboard.SummaryWriter, str(torch_dir), flush_secs=3600)

    log_dir = "runs/mlp"
    started = time.time()
    with pytest.warns(UserWarning, match="add_image") as caught:
        ours_result = torch_script.train(
            TrackerSummaryWriter, log_dir, project="drop-in", server=address, flush_secs=3600
        )
    finished = time.time()
    assert ours_result == torch_result  # the same seeded training, whichever writer it was given
    image_warnings = [w for w in caught if "add_image" in str(w.message)]
    assert len(image_warnings) == 1  # once, though add_image was called twice
    assert image_warnings[0].filename == torch_script.__file__  # pointing at the script's line

    theirs = torch_runs(torch_dir)
    (stamp,) = [name for name in theirs if _is_timestamp(name)]  # torch's add_hparams sub-run
    ours = {r.name: r for r in api.runs("drop-in")}
    expected_names = {log_dir if name == "." else f"{log_dir}/{name}" for name in theirs if name != stamp}
    assert set(ours) == expected_names
    assert expected_names == {
        log_dir,
        f"{log_dir}/loss_train",
        f"{log_dir}/loss_val",
        f"{log_dir}/metrics_acc_train",
        f"{log_dir}/metrics_acc_val",
        f"{log_dir}/trial-2",
    }
    assert {r.status for r in ours.values()} == {"finished"}

    # The writer's own run holds what torch spread over the run and its hparams sub-run.
    main = theirs["."]
    sub = theirs[stamp]
    assert not (set(main.scalars) & set(sub.scalars))
    main.scalars.update(sub.scalars)
    for name, their_run in theirs.items():
        if name == stamp:
            continue
        our_run = ours[log_dir if name == "." else f"{log_dir}/{name}"]
        assert_same_run(
            api,
            our_run,
            their_run,
            explicit_walltime=lambda tag, name=name: (
                name in torch_script.EXPLICIT_WALLTIME_RUNS or tag in torch_script.EXPLICIT_WALLTIME_TAGS
            ),
            clock=(started, finished),
        )

    # add_scalars: one run per key, each logging the main tag.
    for key in ("train", "val"):
        assert set(theirs[f"loss_{key}"].scalars) == {"loss"}
        assert set(theirs[f"metrics_acc_{key}"].scalars) == {"metrics/acc"}

    # Hyperparameters: on the writer's own run the first time, types kept; torch's are floats.
    main_record = ours[log_dir]
    assert sub.hparams is not None and main.hparams is None
    _hparams_match(main_record.hparams, sub.hparams)
    assert main_record.hparams == {
        "lr": 0.1,
        "hidden": 8,
        "optimizer": "sgd",
        "nesterov": False,
        "augment": True,
        "weight_decay": float(np.float32(1e-4)),
    }
    assert type(main_record.hparams["hidden"]) is int
    assert type(main_record.hparams["nesterov"]) is bool and type(main_record.hparams["augment"]) is bool
    assert sub.hparams["nesterov"] == 0.0 and sub.hparams["augment"] == 1.0
    trial = ours[f"{log_dir}/trial-2"]
    assert trial.hparams == torch_script.SECOND_HPARAMS
    assert theirs["trial-2"].hparams is not None
    _hparams_match(trial.hparams, theirs["trial-2"].hparams)
    assert theirs["trial-2"].scalars["hparam/loss"][0][0] == torch_script.STEPS  # global_step kept
    for other in set(ours) - {log_dir, f"{log_dir}/trial-2"}:
        assert ours[other].hparams == {}

    # Custom scalars: torch writes a layout per call; ours merges them into the one stored with the run.
    assert len(main.layouts) == 3
    assert api.run(main_record.id).custom_scalars == _merge_layouts(main.layouts)
    assert main_record.custom_scalars == {
        "Training": {
            **torch_script.LAYOUT["Training"],
            "band": ["Margin", ["val/loss", "train/loss", "train/loss_tensor"]],
        },
        "Precision": {"both": ["Multiline", ["precise/double", "precise/float"]]},
    }
    assert main.images == ["inputs/sample"]  # torch stored the image; we only warned


def test_purge_step_drops_what_tensorboard_hides(address: str, api: tracker.Api, tmp_path: Path) -> None:
    """A job restarted from a checkpoint with purge_step=T: the first attempt's steps >= T are gone,
    of every kind, on the writer's run (add_scalars sub-runs keep both attempts, as in torch), and
    the run's summaries describe what remains."""
    kwargs = {"crash_after": 7, "purge_step": 4, "steps": 9}
    torch_dir = tmp_path / "torch" / "job"
    torch_script.train_resumed(torch_tensorboard.SummaryWriter, str(torch_dir), **kwargs)
    started = time.time()
    torch_script.train_resumed(TrackerSummaryWriter, "job", project="purge", server=address, **kwargs)
    finished = time.time()

    theirs = torch_runs(torch_dir)
    ours = {r.name: r for r in api.runs("purge")}
    assert set(ours) == {"job", "job/split_a"} and set(theirs) == {".", "split_a"}
    main = theirs["."]
    # TensorBoard's view: the first attempt's points at steps >= 4 are gone, the second's remain.
    assert [p[0] for p in main.scalars["loss"]] == list(range(9))
    assert [p[1] for p in main.scalars["loss"]][4:] == [torch_script.WALL0 + 100 + s for s in range(4, 9)]
    assert main.scalars["only/first_attempt_late"] == []
    for name, their_run in theirs.items():
        assert_same_run(
            api,
            ours["job" if name == "." else f"job/{name}"],
            their_run,
            explicit_walltime=lambda tag: True,
            clock=(started, finished),
        )
    tags = {t.tag: t for t in api.tags(ours["job"].id)}
    loss = tags["loss"].summary
    assert loss is not None
    assert loss.first_nonfinite_step is None  # the NaN and +Inf at steps 5 and 6 went with the purge
    assert loss.last_wall_time == torch_script.WALL0 + 100 + 8
    early = tags["diverged/early"].summary
    assert early is not None and early.first_nonfinite_step == 1 and early.min_value == -math.inf
    split = api.scalars(ours["job/split_a"].id, "split")
    assert split.steps.tolist() == [0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8]  # not purged, as in torch


# -- what the drop-in promises beyond the script ---------------------------------------------------


def test_importing_and_using_the_writer_does_not_import_torch(address: str, api: tracker.Api) -> None:
    code = """
import sys
import numpy as np
from tracker_client import SummaryWriter

with SummaryWriter("runs/np", project="np", server=sys.argv[1]) as w:
    w.add_scalar("a", np.float32(0.5), np.int64(1))
    w.add_scalar("b", np.array(2.5), walltime=np.float64(12.5))
    w.add_scalars("c", {"x": np.int32(3)}, 2)
    w.add_histogram("h", np.arange(10.0).reshape(2, 5), 1)
    predictions = np.array([0.1, 0.6, 0.9], dtype=np.float32)
    w.add_pr_curve("pr", np.array([0, 1, 1]), predictions, 1, num_thresholds=3)
    w.add_text("t", "x", 1)
    w.add_hparams({"lr": np.float64(0.5), "n": np.int64(3), "flag": np.bool_(True)}, {"m": np.float32(1.0)})
    w.add_image("img", np.zeros((3, 2, 2)))
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code, address],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    runs = {r.name: r for r in api.runs("np")}
    assert set(runs) == {"runs/np", "runs/np/c_x"}  # add_scalars made a run per key
    run = runs["runs/np"]
    assert run.hparams == {"lr": 0.5, "n": 3, "flag": True}
    assert [type(run.hparams[k]) for k in ("lr", "n", "flag")] == [float, int, bool]
    assert api.scalars(run.id, "a").values.tolist() == [0.5]
    b = api.scalars(run.id, "b")
    assert (b.steps.tolist(), b.values.tolist(), b.wall_times.tolist()) == ([0], [2.5], [12.5])
    assert api.scalars(run.id, "m").values.tolist() == [1.0]
    (hist,) = api.histograms(run.id, "h")
    assert hist.count == 10 and hist.sum == 45.0
    (curve,) = api.pr_curves(run.id, "pr")
    assert curve.true_positives.tolist() == [2.0, 2.0, 0.0]  # bucket floor(p * 2): 0, 1, 1
    c = api.scalars(runs["runs/np/c_x"].id, "c")
    assert (c.steps.tolist(), c.values.tolist()) == ([2], [3.0])


def test_scalars_keep_full_double_precision(address: str, api: tracker.Api) -> None:
    value = 0.1 + 1e-12  # not a float32
    with TrackerSummaryWriter("runs/precise", project="p", server=address) as writer:
        writer.add_scalar("x", value, 3, walltime=1e9 + 0.123456789)
        writer.add_scalar("x", torch.tensor(value, dtype=torch.float64), torch.tensor(4))
        writer.add_scalar("x", torch.tensor(value, dtype=torch.float32), 5)
    (run,) = api.runs("p")
    series = api.scalars(run.id, "x")
    assert series.steps.tolist() == [3, 4, 5]
    assert series.values.tolist() == [value, value, float(np.float32(value))]
    assert series.wall_times[0] == 1e9 + 0.123456789


def test_hparams_of_zero_d_tensors_and_a_second_call_without_run_name(address: str, api: tracker.Api) -> None:
    """torch 2.13's add_hparams raises IndexError on a 0-d tensor; ours takes its value, typed."""
    hparams = {"wd": torch.tensor(0.25), "layers": torch.tensor(3), "flag": torch.tensor(True), "skip": None}
    with TrackerSummaryWriter("runs/hp", project="hp", server=address) as writer:
        writer.add_hparams(hparams, {"hp/m": torch.tensor(0.5)})
        writer.add_hparams({"wd": 0.5}, {"hp/m": 0.75}, global_step=7)  # a torch-style <log_dir>/<time> run
        with pytest.raises(TypeError, match="hparam_domain_discrete"):
            writer.add_hparams({"a": 1}, {}, hparam_domain_discrete={"a": ["x"]})
        with pytest.raises(TypeError, match="dictionary"):
            writer.add_hparams([("a", 1)], {})  # type: ignore[arg-type]
    runs = {r.name: r for r in api.runs("hp")}
    main = runs.pop("runs/hp")
    assert main.hparams == {"wd": 0.25, "layers": 3, "flag": True}
    assert [type(main.hparams[k]) for k in ("wd", "layers", "flag")] == [float, int, bool]
    assert api.scalars(main.id, "hp/m").values.tolist() == [0.5]
    ((name, second),) = runs.items()
    assert name.startswith("runs/hp/") and _is_timestamp(name.removeprefix("runs/hp/"))
    assert second.hparams == {"wd": 0.5}
    m = api.scalars(second.id, "hp/m")
    assert (m.steps.tolist(), m.values.tolist()) == ([7], [0.75])


def test_every_media_method_warns_once_and_training_goes_on(address: str, api: tracker.Api) -> None:
    methods = [
        "add_image",
        "add_images",
        "add_image_with_boxes",
        "add_figure",
        "add_video",
        "add_audio",
        "add_graph",
        "add_onnx_graph",
        "add_embedding",
        "add_mesh",
        "add_tensor",
    ]
    with (
        TrackerSummaryWriter("runs/media", project="m", server=address) as writer,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        for _ in range(3):
            for method in methods:
                getattr(writer, method)("tag", np.zeros((3, 2, 2)), 0)
        writer.add_scalar("after", 1.0, 0)
    messages = [str(w.message) for w in caught]
    assert len(messages) == len(methods)
    for method, message in zip(methods, messages, strict=True):
        assert f"SummaryWriter.{method} " in message
        assert all(w.filename == __file__ for w in caught)
    (run,) = api.runs("m")
    assert [t.tag for t in api.tags(run.id)] == ["after"]


def test_the_default_log_dir_and_the_project_from_the_environment(
    address: str, api: tracker.Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_PROJECT", "from-env")
    monkeypatch.setenv("TRACKER_SERVER", address)
    writer = TrackerSummaryWriter(comment="_lr0.1")
    log_dir = writer.get_logdir()
    writer.add_scalar("x", 1.0)
    writer.close()
    parts = Path(log_dir).parts
    assert parts[0] == "runs" and parts[1].endswith("_lr0.1")
    (run,) = api.runs("from-env")
    assert run.name == log_dir.replace(os.sep, "/")


def test_histogram_raw_checks_its_buckets(address: str) -> None:
    with TrackerSummaryWriter("runs/raw", project="raw", server=address) as writer:
        with pytest.raises(ValueError, match="len\\(bucket_limits\\) != len\\(bucket_counts\\)"):
            writer.add_histogram_raw("h", 0, 1, 3, 1, 1, [0.5, 1.0], [3])
        with pytest.raises(ValueError, match="more than num"):
            writer.add_histogram_raw("h", 0, 1, 3, 1, 1, [0.5, 1.0], [2, 2])
        writer.add_histogram_raw("h", 0, 1, 4, 1, 1, [0.5, 1.0], [1, 2], global_step=2, walltime=5.0)
    with tracker.Api(server=address) as api:
        (run,) = api.runs("raw")
        (h,) = api.histograms(run.id, "h")
    assert (h.step, h.wall_time, h.count, h.nan_count) == (2, 5.0, 4.0, 1.0)  # the value in no bucket


def test_a_one_element_array_is_a_scalar_as_in_torch(address: str, api: tracker.Api, tmp_path: Path) -> None:
    torch_writer = torch_tensorboard.SummaryWriter(str(tmp_path / "torch"))
    torch_writer.add_scalar("x", np.array([4.0]), 1)  # torch accepts it
    torch_writer.close()
    with TrackerSummaryWriter("runs/array", project="arr", server=address) as writer:
        writer.add_scalar("x", np.array([4.0]), 1)
        writer.add_scalar("x", [[5.0]], 2)
        with pytest.raises(ValueError, match=r"one number, got an array of shape \(2,\)"):
            writer.add_scalar("x", np.array([1.0, 2.0]), 3)
    (run,) = api.runs("arr")
    assert api.scalars(run.id, "x").values.tolist() == [4.0, 5.0]


def test_logging_after_close_reopens_as_in_torch(address: str, api: tracker.Api, tmp_path: Path) -> None:
    torch_writer = torch_tensorboard.SummaryWriter(str(tmp_path / "torch"))
    torch_writer.add_scalar("x", 1.0, 0)
    torch_writer.close()
    torch_writer.add_scalar("x", 2.0, 1)  # torch: reopened
    torch_writer.close()
    writer = TrackerSummaryWriter("runs/reopen", project="reopen", server=address)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.add_scalar("x", 2.0, 1)
    writer.close()
    (run,) = api.runs("reopen")
    assert api.scalars(run.id, "x").values.tolist() == [1.0, 2.0]
    assert run.status == "finished"


def test_custom_scalars_layouts_merge_and_margin_needs_three_tags(address: str, api: tracker.Api) -> None:
    with TrackerSummaryWriter("runs/layout", project="layout", server=address) as writer:
        writer.add_custom_scalars_multilinechart(["a", "b"])  # default category and title
        writer.add_custom_scalars(
            {"default": {"other": ["Multiline", ("c",)]}, "x": {"y": ["Multiline", []]}}
        )
        writer.add_custom_scalars_multilinechart(["d"], title="untitled")  # replaces the first chart
        with pytest.raises(AssertionError):
            writer.add_custom_scalars_marginchart(["v", "lo"])
        record = api.run(writer.run.id)
    assert record.custom_scalars == {
        "default": {"untitled": ["Multiline", ["d"]], "other": ["Multiline", ["c"]]},
        "x": {"y": ["Multiline", []]},
    }
    assert json.loads(json.dumps(record.custom_scalars)) == record.custom_scalars

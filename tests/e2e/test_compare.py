"""Comparing runs end to end: the experiment schema, session groups, best and importance, through the
client, a real gRPC server and a real database (SQLite and PostgreSQL), every answer checked against
an independent plain-Python computation (tests/e2e/compare_reference.py) over what was logged.

One project per database, built once per module through the real client: 80 combinations of
hyperparameters x 3 seeds, a pair of runs without metrics and a run without hyperparameters (243
runs, created in shuffled order, so the seeds of a combination are not created together). It has
- repeated seeds (identical hyperparameters); runs finished, failed and killed;
- `dropout` on the sgd runs only; `layers` an int in some runs and a string in others (2 and "2"
  are different values); `warmup` a bool, an int or a string (False and 0 are different values);
  `augment` a bool; `width` 64 in some seeds of a group and 64.0 in others (one group); `epochs`
  10 or 10.0; `momentum` 0.3 or 0.1 + 0.2 (one ulp apart);
- `acc` NaN at the last step in some runs, at the first step in three, throughout in two, +Inf
  mid-series in three; `loss` ending at +Inf or -Inf in a few; `val/loss` missing from whole
  groups and from single runs; `score` small integers (ties); `rare` in four runs only; points
  logged late at an early step, and a last step logged twice.
A few tests add small projects of their own on the same server.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pytest

import tracker_client as tracker
from tests.conftest import BACKENDS, fresh_database_url
from tests.e2e import compare_reference as ref
from tests.e2e.compare_reference import LoggedRun
from tracker_client.records import (
    Experiment,
    Filter,
    HParamInfo,
    Importance,
    Interval,
    SessionGroups,
    Sort,
)
from tracker_server.app import ServerThread
from tracker_server.store.engine import Database

PROJECT = "sweep"
LRS = (0.0001, 0.0003, 0.001, 0.003, 0.01)
OPTIMIZERS = ("adam", "sgd")
LAYERS: tuple[int | str, ...] = (2, 8, "2", "deep")
WARMUPS: tuple[bool | int | str, ...] = (False, 0, "linear", 500)
SEEDS = 3
STEPS = 5
REL = 1e-12  # mean and std; everything else is exact
AGGREGATES = ("mean", "median", "min", "max", "std")
METRIC_VALUES = ("last", "min", "max")


# -- the project ---------------------------------------------------------------------------------


def _combinations() -> list[dict[str, int | float | str | bool]]:
    """Every combination once; derived values depend on lr, optimizer and augment only, so two
    combinations differ only by `layers` 2 versus "2"."""
    out: list[dict[str, int | float | str | bool]] = []
    for i, lr in enumerate(LRS):
        for optimizer in OPTIMIZERS:
            for layers in LAYERS:
                for augment in (False, True):
                    hparams: dict[str, int | float | str | bool] = {
                        "lr": lr,
                        "optimizer": optimizer,
                        "layers": layers,
                        "augment": augment,
                        "width": 64 if i % 2 == 0 else 128,
                        "warmup": WARMUPS[(i + augment) % 4],
                        "momentum": 0.3 if optimizer == "adam" else 0.1 + 0.2,
                    }
                    if optimizer == "sgd":
                        hparams["dropout"] = 0.1 if i % 2 == 0 else 0.5
                    out.append(hparams)
    return out


def _plan() -> list[LoggedRun]:
    """What to log, in creation order. Deterministic."""
    rng = random.Random(20240611)
    combos = _combinations()
    runs: list[LoggedRun] = []
    for c, base in enumerate(combos):
        i = LRS.index(float(base["lr"]))
        for seed in range(SEEDS):
            hparams = dict(base)
            # 64 and 64.0 within one group: the same value, whatever the type.
            hparams["width"] = float(base["width"]) if (seed + c) % 2 else int(base["width"])
            final = 1.0 + 0.1 * math.log10(float(base["lr"])) + 0.004 * bool(base["augment"])
            final += rng.gauss(0.0, 0.003)
            acc = [final - (STEPS - 1 - t) * 0.05 + rng.gauss(0.0, 0.01) for t in range(STEPS)]
            acc[-1] = final
            loss = [1.0 - final + (STEPS - 1 - t) * 0.1 + rng.gauss(0.0, 0.01) for t in range(STEPS)]
            points: dict[str, list[tuple[int, float]]] = {
                "acc": list(enumerate(acc)),
                "loss": list(enumerate(loss)),
                "score": [(t, float(t % 2)) for t in range(STEPS - 1)]
                + [(STEPS - 1, float(i // 2 + bool(base["augment"])))],
            }
            lacks_val = (base["layers"] == 8 and not base["augment"]) or (seed == 2 and c % 5 == 0)
            if not lacks_val:
                points["val/loss"] = [(t, v + rng.gauss(0.0, 0.02)) for t, v in enumerate(loss)]
            runs.append(LoggedRun(f"c{c:02d}-s{seed}", hparams, points, "finished"))
    # Two runs without any metric (one group), and one without hyperparameters.
    runs.append(LoggedRun("lonely-0", {"lr": 0.05, "optimizer": "adam"}, {}, "finished"))
    runs.append(LoggedRun("lonely-1", {"lr": 0.05, "optimizer": "adam"}, {}, "failed"))
    runs.append(
        LoggedRun("bare", {}, {"acc": [(0, 0.1), (1, 0.2)], "loss": [(0, 2.0), (1, 1.5)]}, "finished")
    )
    rng.shuffle(runs)
    # Point-level specials on runs of the sweep.
    sweep = [r for r in runs if r.name.startswith("c")]
    picks = iter(rng.sample(range(len(sweep)), 43))
    for _ in range(10):  # diverged at the end: the last value is NaN
        sweep[next(picks)].points["acc"][-1] = (STEPS - 1, math.nan)
    for _ in range(2):  # NaN throughout: min and max are NaN too
        run = sweep[next(picks)]
        run.points["acc"] = [(t, math.nan) for t in range(STEPS)]
    for _ in range(3):  # NaN at the first step, then recovered: min and max ignore it
        sweep[next(picks)].points["acc"][0] = (0, math.nan)
    for _ in range(3):  # +Inf mid-series: the max is +Inf
        sweep[next(picks)].points["acc"][2] = (2, math.inf)
    for value in (math.inf, math.inf, -math.inf):
        sweep[next(picks)].points["loss"][-1] = (STEPS - 1, value)
    for _ in range(6):  # a point logged late at an early step: it is not the last value
        sweep[next(picks)].points["acc"].append((1, 5.0))
    for _ in range(6):  # the last step logged twice: the later point is the last value
        run = sweep[next(picks)]
        run.points["loss"].append((STEPS - 1, -0.25))
    for _ in range(4):
        sweep[next(picks)].points["rare"] = [(0, 3.0), (7, 1.0)]
    for n, run in enumerate(runs):
        run.hparams = {**run.hparams, **({"epochs": 10 if n % 2 else 10.0} if run.name[0] == "c" else {})}
        if run.status == "finished":
            draw = rng.random()
            run.status = "failed" if draw < 0.15 else "killed" if draw < 0.2 else "finished"
    return runs


def _log(address: str, runs: Sequence[LoggedRun], project: str = PROJECT) -> None:
    for planned in runs:
        run = tracker.init(
            project=project, name=planned.name, hparams=planned.hparams, server=address, flush_interval=3600
        )
        for tag, points in planned.points.items():
            for step, value in points:
                run.log({tag: value}, step=step)
        run.finish(planned.status)  # type: ignore[arg-type]
        planned.id = run.id


@dataclass
class Project:
    address: str
    backend: str
    runs: list[LoggedRun]
    api: tracker.Api
    commands: dict[tuple[str, ...], subprocess.Popen[str]]  # CLI_COMMANDS, started on the side

    def by_id(self) -> dict[str, LoggedRun]:
        return {r.id: r for r in self.runs}


@pytest.fixture(scope="module", params=BACKENDS)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The project above on a real server and a fresh database of each kind, built once per module."""
    backend = str(request.param)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TRACKER_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        for name in ("TRACKER_SERVER", "TRACKER_PROJECT", "TRACKER_TOKEN", "TRACKER_DATABASE_URL"):
            env.delenv(name, raising=False)
        for url in fresh_database_url(backend, request, tmp_path_factory.mktemp("compare")):
            db = Database(url, pool_size=4)
            try:
                with ServerThread(db) as server:
                    runs = _plan()
                    _log(server.address, runs)
                    commands = {args: _start_cli(server.address, args) for args in CLI_COMMANDS}
                    try:
                        with tracker.Api(server=server.address) as api:
                            yield Project(server.address, backend, runs, api, commands)
                    finally:
                        for command in commands.values():
                            command.kill()
                            command.communicate()
            finally:
                db.dispose()


# -- comparing answers ---------------------------------------------------------------------------


def _same_value(got: object, want: object) -> bool:
    """Equal with the same type (an int is not a float here; 1 == True is not equal)."""
    if type(got) is not type(want):
        return False
    if isinstance(got, float) and isinstance(want, float):
        return ref.same_float(got, want)
    return got == want


def _assert_interval(got: object, want: Interval | None, what: str) -> None:
    if want is None:
        assert got is None, what
        return
    assert isinstance(got, Interval), f"{what}: {got!r}"
    assert (got.min, got.max, got.min_open, got.max_open) == (want.min, want.max, False, False), what


def _assert_domain(got: object, want: Interval | tuple[object, ...] | None, what: str) -> None:
    if isinstance(want, tuple):
        assert isinstance(got, tuple), f"{what}: {got!r}"
        assert len(got) == len(want) and all(map(_same_value, got, want)), f"{what}: {got!r} != {want!r}"
    else:
        _assert_interval(got, want, what)


def _assert_hparam_info(got: HParamInfo, want: ref.ExpectedHParam) -> None:
    assert got.type == want.type, got.name
    assert got.run_count == want.run_count, got.name
    assert not got.domain_truncated, got.name
    assert got.differs == want.differs, got.name


def _assert_experiment(
    got: Experiment,
    runs: Sequence[LoggedRun],
    which: str,
    *,
    name: str = PROJECT,
) -> None:
    assert got.project == name
    assert got.run_count == len(runs)
    hparams = ref.expected_hparams(runs)
    assert sorted(h.name for h in got.hparams) == sorted(hparams)
    for info in got.hparams:
        want = hparams[info.name]
        _assert_hparam_info(info, want)
        _assert_domain(info.domain, want.domain, f"domain of {info.name}")
    metrics = ref.expected_metrics(runs, which)
    assert sorted(m.tag for m in got.metrics) == sorted(metrics)
    for m in got.metrics:
        assert m.run_count == metrics[m.tag].run_count, m.tag
        _assert_interval(m.domain, metrics[m.tag].domain, f"{which} domain of {m.tag}")


def _assert_groups(
    got: SessionGroups,
    want: ref.Expected,
    *,
    aggregate_by: str = "mean",
    group: bool = True,
    metric_value: str = "last",
    metrics: Sequence[str] | None = None,
) -> None:
    assert got.total == want.total
    assert [g.runs for g in got.groups] == [w.run_ids for w in want.groups]
    rel = REL if group and aggregate_by in ("mean", "std") else 0.0
    for g, w in zip(got.groups, want.groups, strict=True):
        assert g.count == len(w.runs)
        assert g.hparams.keys() == w.hparams.keys(), g.runs
        for name, value in g.hparams.items():  # the first run's values, types kept
            assert _same_value(value, w.hparams[name]), (name, value, w.hparams[name])
        assert sorted(g.metrics) == sorted(w.shown), g.runs
        for tag, value in g.metrics.items():
            assert ref.same_float(value, w.shown[tag], rel=rel), (aggregate_by, tag, value, w.shown[tag])
        if not group:
            assert g.key == w.runs[0].id
        assert [s.id for s in g.sessions] == list(g.runs)
        for session, run in zip(g.sessions, w.runs, strict=True):
            assert (session.name, session.status) == (run.name, run.status)
            values = {
                tag: run.value(tag, metric_value) for tag in run.points if metrics is None or tag in metrics
            }
            assert sorted(session.metrics) == sorted(values), run.name
            for tag, value in session.metrics.items():
                assert ref.same_float(value, values[tag]), (run.name, tag, value, values[tag])


def _all(project: Project, **query: object) -> SessionGroups:
    return project.api.session_groups(PROJECT, limit=1000, **query)  # type: ignore[arg-type]


def _expected(project: Project, **query: object) -> ref.Expected:
    query.setdefault("limit", 1000)
    if "aggregate" in query:
        query["aggregate_by"] = query.pop("aggregate")
    return ref.session_groups(project.runs, **query)  # type: ignore[arg-type]


# -- the project as logged -----------------------------------------------------------------------


def test_the_project_holds_what_was_logged(project: Project) -> None:
    records = project.api.runs(PROJECT)
    assert len(records) == len(project.runs) == 243
    assert [r.id for r in records] == [r.id for r in project.runs]  # oldest first = creation order
    for record, run in zip(records, project.runs, strict=True):
        assert record.status == run.status
        assert record.hparams.keys() == run.hparams.keys()
        assert all(_same_value(record.hparams[k], v) for k, v in run.hparams.items()), run.name
    statuses = {r.status for r in records}
    assert statuses == {"finished", "failed", "killed"}


# -- the experiment schema -----------------------------------------------------------------------


@pytest.mark.parametrize("which", METRIC_VALUES)
def test_experiment_lists_every_hparam_and_metric_with_types_domains_and_counts(
    project: Project, which: str
) -> None:
    schema = project.api.experiment(PROJECT, metric_value=which)
    _assert_experiment(schema, project.runs, which)
    by_name = {h.name: h for h in schema.hparams}
    # Spelled out, the interesting ones:
    assert (by_name["layers"].type, by_name["warmup"].type) == ("string", "string")  # mixed types
    assert by_name["augment"].type == "bool" and by_name["augment"].domain == (False, True)
    assert by_name["width"].type == "number" and by_name["width"].domain == Interval(64.0, 128.0)
    assert by_name["optimizer"].domain == ("adam", "sgd")
    assert by_name["dropout"].differs and by_name["dropout"].run_count == 120  # sgd runs only
    assert by_name["lr"].run_count == 242 and by_name["lr"].domain == Interval(0.0001, 0.05)
    metrics = {m.tag: m for m in schema.metrics}
    assert metrics["rare"].run_count == 4 and metrics["acc"].run_count == 241


def test_a_mixed_domain_lists_every_value(project: Project) -> None:
    """Numbers included (the first version listed only the strings and bools of a mixed column)."""
    schema = project.api.experiment(PROJECT)
    want = ref.expected_hparams(project.runs)
    by_name = {h.name: h for h in schema.hparams}
    assert want["layers"].domain == (2, 8, "2", "deep")
    assert want["warmup"].domain == (False, 0, 500, "linear")
    for name in ("layers", "warmup"):
        _assert_domain(by_name[name].domain, want[name].domain, f"domain of {name}")
    axes = {a.name: a for a in _all(project, metrics=["acc"]).axes}
    for name in ("layers", "warmup"):
        _assert_domain(axes[name].domain, want[name].domain, f"axis domain of {name}")


def _small_project(project: Project, name: str, values: Sequence[int | float]) -> HParamInfo:
    """The schema entry of hyperparameter ``name`` in a project of one run per value (and a
    constant ``lr``, whose `differs` must be False)."""
    for n, value in enumerate(values):
        tracker.init(
            project=name, name=f"r{n}", hparams={name: value, "lr": 0.1}, server=project.address
        ).finish()
    by_name = {h.name: h for h in project.api.experiment(name).hparams}
    assert by_name["lr"].differs is False
    return by_name[name]


def test_an_int_and_the_equal_float_are_one_value(project: Project) -> None:
    """`differs` counts values as grouping does (the first version counted 10 and 10.0 as two)."""
    # Grouping treats 10 and 10.0 as one value (every sweep run has one of them).
    assert _all(project, filters=[Filter("epochs", one_of=(10,))]).total == 80
    info = _small_project(project, "epochs", (10, 10.0, 10))
    assert project.api.session_groups("epochs").total == 1  # one combination
    assert (info.type, info.run_count, info.domain) == ("number", 3, Interval(10.0, 10.0))
    assert info.differs is False


def test_values_one_ulp_apart_differ(project: Project) -> None:
    """0.3 and 0.1 + 0.2 are two values (the first version's SQLite CAST(... AS TEXT) kept 15 digits)."""
    info = _small_project(project, "momentum", (0.3, 0.1 + 0.2))
    assert project.api.session_groups("momentum").total == 2  # two combinations
    assert (info.type, info.run_count, info.domain) == ("number", 2, Interval(0.3, 0.1 + 0.2))
    assert info.differs is True


def test_answers_follow_new_runs_resumed_runs_and_changed_hparams(project: Project) -> None:
    """Nothing is answered from a stale view: after runs are added, resumed with other
    hyperparameters, extended and re-finished, every answer is recomputed."""
    name, api = "live", project.api
    runs = [
        LoggedRun(
            f"r{n}",
            {"lr": 0.1 * (1 + n // 3), "opt": "ab"[n // 3], "const": 5},
            {"m": [(0, 1.0), (1, n + 0.5)]},
            "finished",
        )
        for n in range(6)
    ]
    _log(project.address, runs, project=name)

    def check() -> None:
        _assert_experiment(api.experiment(name), runs, "last", name=name)
        for group in (True, False):
            got = api.session_groups(name, group=group, sort=["-m"], aggregate="median")
            want = ref.session_groups(
                runs, group=group, sort=[Sort("m", descending=True)], aggregate_by="median"
            )
            _assert_groups(got, want, group=group, aggregate_by="median")
        _assert_correlations(api.importance(name, "m"), runs, "m")

    check()
    assert not {h.name: h for h in api.experiment(name).hparams}["const"].differs
    extra = LoggedRun(
        "r6",
        {"lr": 0.1, "opt": "a", "const": 5, "extra": True},
        {"m": [(0, 7.0)], "new": [(0, 1.0)]},
        "finished",
    )
    _log(project.address, [extra], project=name)
    runs.append(extra)
    # r0 is resumed with the hyperparameters of the other group, logs a new last point, and fails.
    resumed = tracker.init(project=name, name="r0", hparams={"lr": 0.2, "opt": "b"}, server=project.address)
    resumed.log({"m": 9.0}, step=10)
    resumed.finish("failed")
    runs[0].hparams = {**runs[0].hparams, "lr": 0.2, "opt": "b"}  # merged
    runs[0].points["m"].append((10, 9.0))
    runs[0].status = "failed"
    # r4 changes a hyperparameter while it runs: it leaves its group.
    changed = tracker.init(project=name, name="r4", server=project.address)
    changed.log_hparams({"lr": 0.3})
    changed.finish("killed")
    runs[4].hparams = {**runs[4].hparams, "lr": 0.3}
    runs[4].status = "killed"
    check()
    assert api.session_groups(name).total == 4
    schema = {h.name: h for h in api.experiment(name).hparams}
    assert schema["extra"].differs and schema["extra"].run_count == 1


def test_the_std_of_a_single_run_is_0_even_when_its_value_is_infinite(project: Project) -> None:
    name = "single"
    runs = [
        LoggedRun("finite", {"x": 1}, {"m": [(0, 2.5)]}, "finished"),
        LoggedRun("nan", {"x": 2}, {"m": [(0, math.nan)]}, "finished"),
        LoggedRun("inf", {"x": 3}, {"m": [(0, 1.0), (1, math.inf)]}, "finished"),
    ]
    _log(project.address, runs, project=name)
    got = {g.hparams["x"]: g.metrics["m"] for g in project.api.session_groups(name, aggregate="std").groups}
    assert got[1] == 0.0 and math.isnan(got[2])  # one run: 0; a NaN poisons
    assert got[3] == 0.0
    # NaN equals NaN in `where`: `!= nan` drops the diverged group, `= nan` finds it.
    kept = {g.hparams["x"] for g in project.api.session_groups(name, where="m != nan").groups}
    assert kept == {1, 3}
    assert [g.hparams["x"] for g in project.api.session_groups(name, where="m = nan").groups] == [2]


def test_experiment_of_an_unknown_project_is_not_found(project: Project) -> None:
    with pytest.raises(tracker.NotFoundError, match="nope"):
        project.api.experiment("nope")


# -- session groups ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", METRIC_VALUES)
@pytest.mark.parametrize("how", AGGREGATES)
def test_groups_aggregate_every_metric_over_their_runs(project: Project, how: str, which: str) -> None:
    got = _all(project, aggregate=how, metric_value=which)
    want = _expected(project, aggregate=how, metric_value=which)
    assert got.total == 82 and len(got.groups) == 82
    _assert_groups(got, want, aggregate_by=how, metric_value=which)
    keys = [g.key for g in got.groups]
    assert len(set(keys)) == len(keys)
    # 64 and 64.0 in one group; 2 and "2" in two.
    mixed = [
        g for g in got.groups if len({type(project.by_id()[r].hparams.get("width")) for r in g.runs}) == 2
    ]
    assert len(mixed) == 80
    layer_values = {(type(g.hparams.get("layers")), g.hparams.get("layers")) for g in got.groups}
    assert (int, 2) in layer_values and (str, "2") in layer_values


def test_group_keys_are_stable_and_ungrouped_keys_are_run_ids(project: Project) -> None:
    first = {g.runs: g.key for g in _all(project).groups}
    again = {g.runs: g.key for g in _all(project, aggregate="max", sort=["-acc"]).groups}
    assert first == again
    failed = _all(project, statuses=["failed"])
    for g in failed.groups:  # a subset of a group keeps the group's key
        (full,) = [key for runs, key in first.items() if set(g.runs) <= set(runs)]
        assert g.key == full
    single = _all(project, group=False)
    assert [g.key for g in single.groups] == [r.id for r in project.runs]


@pytest.mark.parametrize("which", METRIC_VALUES)
def test_ungrouped_rows_are_runs_with_their_own_values(project: Project, which: str) -> None:
    got = _all(project, group=False, metric_value=which, aggregate="std")  # ignored for single runs
    want = _expected(project, group=False, metric_value=which)
    assert got.total == 243
    _assert_groups(got, want, group=False, metric_value=which)


def test_a_nan_poisons_the_aggregate_and_missing_runs_are_skipped(project: Project) -> None:
    """The rules spelled out on concrete groups, beyond the wholesale comparison."""
    by_id = project.by_id()
    groups = _all(project).groups
    poisoned = [g for g in groups if any(math.isnan(by_id[r].value("acc", "last") or 0.0) for r in g.runs)]
    assert poisoned
    for how in AGGREGATES:
        got = {g.runs: g.metrics for g in _all(project, aggregate=how).groups}
        for g in poisoned:
            assert math.isnan(got[g.runs]["acc"]), how
    partial = [g for g in groups if 0 < sum("val/loss" in by_id[r].points for r in g.runs) < g.count]
    assert partial
    for g in partial:
        values = [v for r in g.runs if (v := by_id[r].value("val/loss", "last")) is not None]
        assert g.metrics["val/loss"] == pytest.approx(sum(values) / len(values), rel=REL)
    lacking = [g for g in groups if not any("val/loss" in by_id[r].points for r in g.runs)]
    assert len(lacking) == 12  # 10 sweep groups, the lonely one and the bare run
    assert all("val/loss" not in g.metrics for g in lacking)
    (lonely,) = [g for g in groups if g.hparams == {"lr": 0.05, "optimizer": "adam"}]
    assert lonely.metrics == {} and all(s.metrics == {} for s in lonely.sessions)
    all_nan = [r for r in project.runs if all(math.isnan(v) for _, v in r.points.get("acc", [(0, 0.0)]))]
    assert len(all_nan) == 2
    for which in ("min", "max"):
        rows = {g.runs[0]: g for g in _all(project, group=False, metric_value=which).groups}
        for run in all_nan:
            assert math.isnan(rows[run.id].metrics["acc"])
    maxed = {g.runs[0]: g.metrics for g in _all(project, group=False, metric_value="max").groups}
    assert sum(m.get("acc") == math.inf for m in maxed.values()) == 3


def test_requested_metrics_only(project: Project) -> None:
    # Filters and sorts still see every metric.
    query: dict[str, object] = {
        "metrics": ["acc", "rare"],
        "aggregate": "median",
        "sort": [Sort("score", descending=True), Sort("val/loss")],
        "filters": [Filter("loss", kind="metric", max=0.35)],
    }
    got = _all(project, **query)
    _assert_groups(got, _expected(project, **query), aggregate_by="median", metrics=["acc", "rare"])
    assert 0 < got.total < 82
    assert [a.name for a in got.axes if a.kind == "metric"] == ["acc", "rare"]
    assert sum("rare" in g.metrics for g in got.groups) == len(
        {g.runs for g in got.groups if any("rare" in project.by_id()[r].points for r in g.runs)}
    )


HPARAM_FILTERS: dict[str, list[Filter]] = {
    "closed interval": [Filter("lr", min=0.0003, max=0.003)],
    "open interval": [Filter("lr", min=0.0003, max=0.003, min_open=True, max_open=True)],
    "half-open, one end": [Filter("lr", min=0.001, min_open=True)],
    "upper bound only": [Filter("width", max=64)],
    "interval on a mixed column": [Filter("layers", min=2, max=8)],
    "interval on strings matches nothing": [Filter("optimizer", min=0)],
    "one_of numbers by value": [Filter("width", one_of=(64.0,))],
    "one_of typed": [Filter("layers", one_of=(2, "deep"))],
    "one_of a string that looks like a number": [Filter("layers", one_of=("2",))],
    "one_of a bool is not a number": [Filter("warmup", one_of=(False,))],
    "one_of a number is not a bool": [Filter("warmup", one_of=(0,))],
    "none_of": [Filter("optimizer", none_of=("sgd",))],
    "none_of drops missing": [Filter("dropout", none_of=(0.5,))],
    "none_of keeps missing": [Filter("dropout", none_of=(0.5,), include_missing=True)],
    "interval keeps missing": [Filter("dropout", max=0.2, include_missing=True)],
    "interval drops missing": [Filter("dropout", max=0.2)],
    "presence only": [Filter("dropout")],
    "regex on a mixed column": [Filter("layers", regex="^d")],
    "regex on strings": [Filter("warmup", regex="in")],
    "regex never matches numbers": [Filter("lr", regex="0")],
    "bool one_of": [Filter("augment", one_of=(True,))],
    "several": [
        Filter("lr", max=0.001),
        Filter("optimizer", one_of=("sgd",)),
        Filter("layers", none_of=(8, "deep")),
    ],
}


@pytest.mark.parametrize("case", list(HPARAM_FILTERS))
def test_hparam_filters_select_runs(project: Project, case: str) -> None:
    filters = HPARAM_FILTERS[case]
    got = _all(project, filters=filters)
    want = _expected(project, filters=filters)
    _assert_groups(got, want)
    if case.endswith("nothing") or case.startswith("regex never"):
        assert got.total == 0
    else:
        assert 0 < got.total < 82, case


METRIC_FILTERS: dict[str, tuple[str, list[Filter]]] = {
    "interval on the mean": ("mean", [Filter("acc", kind="metric", min=0.7, max=0.75)]),
    "open interval on the median": (
        "median",
        [Filter("acc", kind="metric", min=0.6, max=0.8, min_open=True, max_open=True)],
    ),
    "interval drops NaN": ("max", [Filter("acc", kind="metric", min=-math.inf)]),
    "interval up to +Inf": ("max", [Filter("acc", kind="metric", min=0.7, max=math.inf)]),
    "presence": ("mean", [Filter("val/loss", kind="metric")]),
    "keep groups lacking it": ("std", [Filter("val/loss", kind="metric", max=0.01, include_missing=True)]),
    "one_of on integers": ("mean", [Filter("score", kind="metric", one_of=(1, 3.0))]),
    "none_of on integers": ("min", [Filter("score", kind="metric", none_of=(2,))]),
    "rare": ("max", [Filter("rare", kind="metric", min=1.0)]),
    "hparam and metric": (
        "mean",
        [
            Filter("optimizer", one_of=("adam",)),
            Filter("loss", kind="metric", min=0.25, max_open=True, max=0.65),
        ],
    ),
}


@pytest.mark.parametrize("case", list(METRIC_FILTERS))
def test_metric_filters_apply_to_group_aggregates(project: Project, case: str) -> None:
    how, filters = METRIC_FILTERS[case]
    for which in ("last", "max"):
        got = _all(project, filters=filters, aggregate=how, metric_value=which)
        want = _expected(project, filters=filters, aggregate=how, metric_value=which)
        _assert_groups(got, want, aggregate_by=how, metric_value=which)
        assert 0 < got.total < 82, (case, which)


@pytest.mark.parametrize(
    ("statuses", "how"),
    [(["failed"], "std"), (["finished"], "mean"), (["killed", "failed"], "median"), (["running"], "mean")],
)
def test_statuses_select_runs_before_grouping(project: Project, statuses: list[str], how: str) -> None:
    got = _all(project, statuses=statuses, aggregate=how)
    want = _expected(project, statuses=statuses, aggregate=how)
    _assert_groups(got, want, aggregate_by=how)
    assert all(s.status in statuses for g in got.groups for s in g.sessions)
    assert (got.total == 0) == (statuses == ["running"])
    # Groups lose runs, not their identity: some groups here are partial.
    if statuses == ["finished"]:
        assert 0 < sum(g.count < SEEDS for g in got.groups) < got.total


WHERE: dict[str, list[Filter]] = {
    "lr < 0.001 and optimizer = 'adam'": [
        Filter("lr", max=0.001, max_open=True),
        Filter("optimizer", one_of=("adam",)),
    ],
    "lr <= 0.001 AND lr > 0.0001": [Filter("lr", max=0.001), Filter("lr", min=0.0001, min_open=True)],
    "lr >= 3e-3": [Filter("lr", min=0.003)],
    "layers in (2, 'deep')": [Filter("layers", one_of=(2, "deep"))],
    'layers = "2"': [Filter("layers", one_of=("2",))],
    "layers not in (8, 'deep',)": [Filter("layers", none_of=(8, "deep"))],
    "width = 64.0 and augment = TRUE": [Filter("width", one_of=(64,)), Filter("augment", one_of=(True,))],
    "warmup == false": [Filter("warmup", one_of=(False,))],
    "warmup = 0": [Filter("warmup", one_of=(0,))],
    "dropout != 0.5": [Filter("dropout", none_of=(0.5,))],
    "dropout < 1": [Filter("dropout", max=1.0, max_open=True)],
    "acc > 0.72": [Filter("acc", kind="metric", min=0.72, min_open=True)],
    "val/loss <= 0.3 and optimizer != 'adam'": [
        Filter("val/loss", kind="metric", max=0.3),
        Filter("optimizer", none_of=("adam",)),
    ],
    "score in (0, 2)": [Filter("score", kind="metric", one_of=(0, 2))],
    "`rare` >= 0": [Filter("rare", kind="metric", min=0)],
    "   ": [],
}


@pytest.mark.parametrize("where", list(WHERE))
def test_where_selects_as_the_equivalent_filters(project: Project, where: str) -> None:
    how = AGGREGATES[list(WHERE).index(where) % len(AGGREGATES)]
    got = _all(project, where=where, aggregate=how)
    _assert_groups(got, _expected(project, filters=WHERE[where], aggregate=how), aggregate_by=how)
    if where.strip():
        assert 0 < got.total < 82


def test_where_and_filters_are_anded(project: Project) -> None:
    filters = [Filter("optimizer", one_of=("sgd",)), Filter("acc", kind="metric", max=0.7)]
    got = _all(project, where="augment = true", filters=filters)
    want = _expected(project, filters=[*filters, Filter("augment", one_of=(True,))])
    _assert_groups(got, want)
    assert 0 < got.total < 20


SORTS: dict[str, list[Sort | str]] = {
    "metric ascending": ["acc"],
    "metric descending": ["-acc"],
    "missing last, ascending": [Sort("val/loss")],
    "missing last, descending": [Sort("val/loss", descending=True)],
    "missing first, ascending": [Sort("val/loss", missing_first=True)],
    "missing first, descending": [Sort("val/loss", descending=True, missing_first=True)],
    "NaN last, ascending": [Sort("acc", missing_first=True)],
    "NaN last, descending": [Sort("acc", descending=True, missing_first=True)],
    "infinities": [Sort("loss", descending=True)],
    "ties keep creation order": ["score"],
    "ties keep creation order, descending": ["-score"],
    "multi-key": [Sort("score", descending=True), Sort("lr", kind="hparam"), "-acc"],
    "hparam, mixed types": [Sort("layers", kind="hparam")],
    "hparam, mixed types, descending": [Sort("warmup", kind="hparam", descending=True), "acc"],
    "hparam, missing first": [Sort("dropout", kind="hparam", missing_first=True), Sort("lr", kind="hparam")],
    "hparam, bool": [Sort("augment", kind="hparam", descending=True), Sort("width", kind="hparam")],
    "rare metric": [Sort("rare", descending=True), "-score"],
}


def _sorts(sort: Sequence[Sort | str]) -> list[Sort]:
    return [Sort(s.lstrip("-"), descending=s.startswith("-")) if isinstance(s, str) else s for s in sort]


@pytest.mark.parametrize("case", list(SORTS))
def test_sorts_order_groups(project: Project, case: str) -> None:
    sort = SORTS[case]
    n = list(SORTS).index(case)
    how, which = AGGREGATES[n % len(AGGREGATES)], METRIC_VALUES[n % len(METRIC_VALUES)]
    got = _all(project, sort=sort, aggregate=how, metric_value=which)
    want = _expected(project, sort=_sorts(sort), aggregate=how, metric_value=which)
    _assert_groups(got, want, aggregate_by=how, metric_value=which)


def test_nan_sorts_after_every_number_in_both_directions(project: Project) -> None:
    for descending in (False, True):
        for missing_first in (False, True):
            sort = [Sort("acc", descending=descending, missing_first=missing_first)]
            groups = _all(project, sort=sort).groups
            kinds = [
                "missing" if "acc" not in g.metrics else "nan" if math.isnan(g.metrics["acc"]) else "number"
                for g in groups
            ]
            expected_order = ["missing", "number", "nan"] if missing_first else ["number", "nan", "missing"]
            assert kinds == sorted(kinds, key=expected_order.index)
            assert kinds.count("nan") > 0 and kinds.count("missing") == 1
            numbers = [g.metrics["acc"] for g, k in zip(groups, kinds, strict=True) if k == "number"]
            assert numbers == sorted(numbers, reverse=descending)


def test_ungrouped_sorts_and_filters(project: Project) -> None:
    sort = [Sort("loss", descending=True), Sort("layers", kind="hparam")]
    filters = [Filter("augment", one_of=(False,)), Filter("acc", kind="metric", max=0.75)]
    got = _all(project, group=False, sort=sort, filters=filters, metric_value="min")
    _assert_groups(
        got,
        _expected(project, group=False, sort=sort, filters=filters, metric_value="min"),
        group=False,
        metric_value="min",
    )


@pytest.mark.parametrize(
    ("offset", "limit"), [(0, 1), (0, 10), (10, 10), (75, 10), (81, 5), (82, 5), (500, 3)]
)
def test_paging_slices_the_sorted_groups_and_counts_them_all(
    project: Project, offset: int, limit: int
) -> None:
    sort: list[Sort | str] = ["-acc", Sort("layers", kind="hparam")]
    got = project.api.session_groups(PROJECT, sort=sort, offset=offset, limit=limit, aggregate="median")
    want = _expected(project, sort=_sorts(sort), offset=offset, limit=limit, aggregate="median")
    _assert_groups(got, want, aggregate_by="median")
    assert got.total == 82 and len(got.groups) == max(0, min(limit, 82 - offset))


def test_pages_cover_every_group_once(project: Project) -> None:
    sort: list[Sort | str] = ["-acc", Sort("layers", kind="hparam")]
    pages = [
        g.runs
        for start in range(0, 82, 17)
        for g in project.api.session_groups(
            PROJECT, sort=sort, offset=start, limit=17, aggregate="median"
        ).groups
    ]
    assert pages == [g.runs for g in _all(project, sort=sort, aggregate="median").groups]


def test_the_default_page_is_100_groups(project: Project) -> None:
    got = project.api.session_groups(PROJECT, group=False, limit=0)
    assert got.total == 243 and len(got.groups) == 100
    assert [g.key for g in got.groups] == [r.id for r in project.runs[:100]]


@pytest.mark.parametrize("which", METRIC_VALUES)
def test_axes_are_the_hparams_then_the_metrics(project: Project, which: str) -> None:
    got = project.api.session_groups(PROJECT, metric_value=which, limit=1, where="lr > 1")
    assert got.total == 0 and got.groups == ()
    kinds = [a.kind for a in got.axes]
    assert kinds == sorted(kinds, key=["hparam", "metric"].index)
    hparams = ref.expected_hparams(project.runs)
    metrics = ref.expected_metrics(project.runs, which)
    assert [a.name for a in got.axes if a.kind == "hparam"] == [
        h.name for h in project.api.experiment(PROJECT, metric_value=which).hparams
    ]
    assert sorted(a.name for a in got.axes if a.kind == "hparam") == sorted(hparams)
    assert sorted(a.name for a in got.axes if a.kind == "metric") == sorted(metrics)
    for axis in got.axes:
        if axis.kind == "hparam":
            assert axis.type == hparams[axis.name].type, axis.name
            _assert_domain(axis.domain, hparams[axis.name].domain, axis.name)
        else:
            assert axis.type == "number"
            _assert_interval(axis.domain, metrics[axis.name].domain, axis.name)


# -- best ----------------------------------------------------------------------------------------


BEST: list[tuple[str, str, int, str | None, str]] = [
    ("acc", "max", 5, None, "mean"),
    ("acc", "min", 5, None, "mean"),
    ("acc", "max", 1000, None, "median"),  # every group with acc: NaN ones last
    ("acc", "min", 1000, None, "max"),
    ("loss", "min", 7, "optimizer = 'sgd' and layers in (2, '2')", "mean"),
    ("loss", "max", 1000, None, "min"),  # +Inf first, NaN last
    ("val/loss", "min", 1000, "augment = false", "std"),  # groups lacking val/loss are left out
    ("score", "max", 12, "lr >= 0.001", "mean"),  # ties: the oldest group first
    ("rare", "max", 10, None, "mean"),
]


@pytest.mark.parametrize(("metric", "mode", "top", "where", "how"), BEST)
def test_best_ranks_groups_having_the_metric(
    project: Project, metric: str, mode: str, top: int, where: str | None, how: str
) -> None:
    got = project.api.best(PROJECT, metric, mode=mode, top=top, where=where, aggregate=how)
    filters = [Filter(metric, kind="metric")]
    if where == "optimizer = 'sgd' and layers in (2, '2')":
        filters += [Filter("optimizer", one_of=("sgd",)), Filter("layers", one_of=(2, "2"))]
    elif where == "augment = false":
        filters += [Filter("augment", one_of=(False,))]
    elif where == "lr >= 0.001":
        filters += [Filter("lr", min=0.001)]
    want = _expected(
        project, filters=filters, sort=[Sort(metric, descending=mode == "max")], aggregate=how, limit=top
    )
    _assert_groups(
        SessionGroups((), tuple(got), want.total), ref.Expected(want.groups, want.total), aggregate_by=how
    )
    values = [g.metrics[metric] for g in got]
    assert all(metric in g.metrics for g in got)
    finite_part = [v for v in values if not math.isnan(v)]
    assert values[: len(finite_part)] == finite_part  # NaN after every number
    assert finite_part == sorted(finite_part, reverse=mode == "max")
    if top == 1000:
        assert len(got) == want.total


def test_best_of_ungrouped_runs(project: Project) -> None:
    got = project.api.best(PROJECT, "acc", mode="max", top=4, group=False, metric_value="max")
    finite = [
        (r.value("acc", "max"), n, r) for n, r in enumerate(project.runs) if r.value("acc", "max") is not None
    ]
    ranked = sorted(
        finite,
        key=lambda t: (math.isnan(t[0]), -t[0] if not math.isnan(t[0]) else 0.0, t[1]),  # type: ignore[operator]
    )
    assert [g.runs[0] for g in got] == [r.id for _, _, r in ranked[:4]]
    assert [g.metrics["acc"] for g in got[:3]] == [math.inf] * 3


# -- importance ----------------------------------------------------------------------------------


def _score_at_least_1(run: LoggedRun) -> bool:
    """`score >= 1 and layers != 8` for one run: a run lacking either column fails."""
    score = run.value("score", "last")
    layers = run.hparams.get("layers")
    return score is not None and score >= 1 and layers is not None and not ref.same(layers, 8)


IMPORTANCE_WHERE: dict[str | None, Callable[[LoggedRun], bool]] = {
    None: bool,
    "optimizer = 'sgd'": lambda r: r.hparams.get("optimizer") == "sgd",
    "score >= 1 and layers != 8": _score_at_least_1,
}


def _assert_correlations(
    got: Importance,
    runs: Sequence[LoggedRun],
    metric: str,
    which: str = "last",
    keep: Callable[[LoggedRun], bool] = bool,
) -> None:
    """Run counts and Spearman correlations as computed from what was logged (runs kept by ``keep``)."""
    want, used = ref.expected_correlations(runs, metric, which, keep)
    assert got.metric == metric
    assert got.run_count == used
    assert sorted(h.name for h in got.hparams) == sorted(want)
    for h in got.hparams:
        correlation, count = want[h.name]
        assert h.run_count == count, h.name
        if correlation is None:
            assert h.correlation is None, h.name
        else:
            assert h.correlation is not None, h.name
            assert h.correlation == pytest.approx(correlation, abs=1e-12), h.name


@pytest.mark.parametrize(
    ("metric", "which", "where"),
    [
        ("acc", "last", None),
        ("acc", "max", None),
        ("loss", "last", None),
        ("rare", "max", None),  # 4 runs: too few for the forest, importances all 0
        ("acc", "last", "optimizer = 'sgd'"),
        ("acc", "last", "score >= 1 and layers != 8"),  # a metric condition applies to each run
    ],
)
def test_importance_correlations_match_spearman_and_the_driver_wins(
    project: Project, metric: str, which: str, where: str | None
) -> None:
    got = project.api.importance(PROJECT, metric, metric_value=which, where=where)
    _assert_correlations(got, project.runs, metric, which, IMPORTANCE_WHERE[where])
    by_name = {h.name: h for h in got.hparams}
    for name in ("layers", "warmup", "optimizer", "epochs"):  # strings, mixed types, a constant
        assert by_name[name].correlation is None, name
    if metric != "rare":
        assert by_name["augment"].correlation is not None  # bools as 0/1
    importances = [h.importance for h in got.hparams]
    assert importances == sorted(importances, reverse=True)  # most important first
    assert all(v >= 0 for v in importances)
    if metric == "rare":
        assert got.run_count == 4 and not any(importances)
    else:
        assert math.fsum(importances) == pytest.approx(1.0, abs=1e-9)
    if metric == "acc":
        assert by_name["lr"].correlation is not None and abs(by_name["lr"].correlation) > 0.9
    if (metric, which) == ("acc", "last"):  # the max has outliers (a late 5.0) no hparam explains
        assert got.hparams[0].name == "lr"  # the hyperparameter that drives acc matters most
        assert got.model_r2 > 0.5


def test_importance_rejects_an_unknown_metric_or_project(project: Project) -> None:
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        project.api.importance(PROJECT, "nope")
    with pytest.raises(tracker.NotFoundError):
        project.api.importance("nope", "acc")
    with pytest.raises(tracker.InvalidArgumentError, match="bogus"):
        project.api.importance(PROJECT, "acc", where="bogus = 1")


# -- bad input -----------------------------------------------------------------------------------


def test_bad_queries_are_rejected_with_a_message_naming_the_problem(project: Project) -> None:
    api = project.api
    with pytest.raises(tracker.InvalidArgumentError, match="learning_rate"):
        api.session_groups(PROJECT, where="learning_rate < 0.1")
    with pytest.raises(tracker.InvalidArgumentError, match="learning_rate"):
        api.best(PROJECT, "acc", where="lr < 1 and learning_rate < 0.1")
    for malformed in ("lr <", "lr < 0.1 or lr > 1", "lr => 1", "optimizer = adam", "(lr < 1)", "lr in ()"):
        with pytest.raises(tracker.InvalidArgumentError, match="column"):
            api.session_groups(PROJECT, where=malformed)
    with pytest.raises(tracker.InvalidArgumentError, match="acc"):
        api.session_groups(PROJECT, where="acc = 'high'")  # a metric is a number
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.session_groups(PROJECT, sort=["nope"])
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.session_groups(PROJECT, sort=[Sort("nope", kind="hparam")])
    with pytest.raises(tracker.InvalidArgumentError, match="lr"):
        api.session_groups(PROJECT, sort=["lr"])  # lr is a hyperparameter, not a metric
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.session_groups(PROJECT, filters=[Filter("nope")])
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.session_groups(PROJECT, filters=[Filter("nope", kind="metric", min=1)])
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.best(PROJECT, "nope")
    with pytest.raises(tracker.InvalidArgumentError, match="nope"):
        api.session_groups(PROJECT, metrics=["acc", "nope"])
    with pytest.raises(tracker.InvalidArgumentError, match="regex"):
        api.session_groups(PROJECT, filters=[Filter("optimizer", regex="(")])
    with pytest.raises(tracker.InvalidArgumentError, match="offset"):
        api.session_groups(PROJECT, offset=-1)
    with pytest.raises(tracker.NotFoundError, match="nope"):
        api.session_groups("nope")
    with pytest.raises(tracker.NotFoundError, match="nope"):
        api.best("nope", "acc")
    for call in (
        lambda: api.session_groups(PROJECT, aggregate="average"),
        lambda: api.session_groups(PROJECT, metric_value="final"),
        lambda: api.experiment(PROJECT, metric_value="first"),
        lambda: api.best(PROJECT, "acc", aggregate="sum"),
        lambda: api.best(PROJECT, "acc", mode="highest"),
        lambda: api.importance(PROJECT, "acc", metric_value="mean"),
    ):
        with pytest.raises(ValueError) as raised:
            call()
        assert not isinstance(raised.value, tracker.TrackerError)  # refused by the client, not the server


# -- the command line ----------------------------------------------------------------------------


# The commands the tests below run on the project. Nothing changes the project once it is built,
# so the fixture starts them all as soon as it is, and each one's Python start and its answer
# happen while other tests run; a test reads what its command printed.
CLI_WHERE = "optimizer = 'sgd' and lr <= 0.003"
CLI_BEST = (
    "best",
    "--project",
    PROJECT,
    "--metric",
    "acc",
    "--top",
    "3",
    "--where",
    CLI_WHERE,
    "--format",
    "json",
)
CLI_BEST_MEDIAN = (
    "best",
    "--project",
    PROJECT,
    "--metric",
    "acc",
    "--min",
    "--top",
    "1000",
    "--aggregate",
    "median",
    "--metric-value",
    "max",
    "--format",
    "json",
)
CLI_IMPORTANCE = (
    "importance",
    "--project",
    PROJECT,
    "--metric",
    "acc",
    "--where",
    "lr > 0.0001",
    "--format",
    "csv",
)
CLI_RUNS = ("runs", "--project", PROJECT, "--format", "json")
CLI_COMMANDS = (CLI_BEST, CLI_BEST_MEDIAN, CLI_IMPORTANCE, CLI_RUNS)


def _start_cli(address: str, args: tuple[str, ...]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker_server.cli", *args, "--server", address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _cli(project: Project, args: tuple[str, ...]) -> str:
    """What `tracker ARGS --server ADDRESS` printed; it must have succeeded."""
    stdout, stderr = project.commands[args].communicate(timeout=120)
    assert project.commands[args].returncode == 0, stderr
    return stdout


def _json_float(value: object) -> float:
    assert isinstance(value, int | float | str), value
    return float(value)


def test_cli_best_prints_what_the_api_returns(project: Project) -> None:
    out = json.loads(_cli(project, CLI_BEST))
    groups = project.api.best(PROJECT, "acc", top=3, where=CLI_WHERE)
    assert len(out) == len(groups) == 3
    names = sorted({n for g in groups for n in g.hparams})
    for rank, (row, g) in enumerate(zip(out, groups, strict=True), 1):
        assert list(row) == ["rank", "acc", "runs", *names, "run ids"]
        assert row["rank"] == rank and row["runs"] == g.count
        assert ref.same_float(_json_float(row["acc"]), g.metrics["acc"])
        assert row["run ids"].split() == list(g.runs)
        for name in names:
            assert _same_value(row[name], g.hparams.get(name)), name
    # And the answer itself is right.
    want = _expected(
        project,
        filters=[Filter("acc", kind="metric"), Filter("optimizer", one_of=("sgd",)), Filter("lr", max=0.003)],
        sort=[Sort("acc", descending=True)],
        limit=3,
    )
    assert [g.runs for g in groups] == [w.run_ids for w in want.groups]
    # --min, another aggregate and metric value, NaN in the output.
    out = json.loads(_cli(project, CLI_BEST_MEDIAN))
    groups = project.api.best(PROJECT, "acc", mode="min", top=1000, aggregate="median", metric_value="max")
    assert [row["run ids"].split() for row in out] == [list(g.runs) for g in groups]
    assert out[-1]["acc"] == "nan"
    assert all(
        ref.same_float(_json_float(r["acc"]), g.metrics["acc"]) for r, g in zip(out, groups, strict=True)
    )


def test_cli_importance_prints_what_the_api_returns(project: Project) -> None:
    out = _cli(project, CLI_IMPORTANCE)
    rows = list(csv.reader(io.StringIO(out)))
    report = project.api.importance(PROJECT, "acc", where="lr > 0.0001")
    assert rows[0] == ["hparam", "importance", "spearman", "runs"]
    assert len(rows) == len(report.hparams) + 1
    for row, h in zip(rows[1:], report.hparams, strict=True):
        assert row[0] == h.name
        assert float(row[1]) == h.importance
        assert (row[2] == "") if h.correlation is None else float(row[2]) == h.correlation
        assert int(row[3]) == h.run_count
    _assert_correlations(report, project.runs, "acc", keep=lambda r: float(r.hparams.get("lr", 0)) > 0.0001)


def test_cli_runs_prints_every_run_with_its_last_values(project: Project) -> None:
    rows = json.loads(_cli(project, CLI_RUNS))
    names = sorted({n for r in project.runs for n in r.hparams})
    tags = sorted({t for r in project.runs for t in r.points})
    assert len(rows) == len(project.runs)
    for row, run in zip(rows, project.runs, strict=True):  # oldest first
        assert list(row) == ["id", "name", "status", "created (UTC)", "created by", *names, *tags]
        assert (row["id"], row["name"], row["status"], row["created by"]) == (
            run.id,
            run.name,
            run.status,
            "local",
        )
        for name in names:
            assert _same_value(row[name], run.hparams.get(name)), (run.name, name)
        for tag in tags:
            value = run.value(tag, "last")
            if value is None:
                assert row[tag] is None
            else:
                assert ref.same_float(_json_float(row[tag]), value), (run.name, tag)

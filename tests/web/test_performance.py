"""How fast the UI opens big things, measured in the browser with the Performance API: a project
of 1,000 runs opening its runs table, and a chart of 50 runs x 10,000 points. The times are
reported (printed and written to test-artifacts/ui-performance.json, quoted in
docs/benchmarks.md), never asserted: what is asserted is that everything was drawn."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import numpy as np
import pytest
from playwright.sync_api import Page

from tests.web.conftest import ARTIFACTS, READY_TIMEOUT_MS, chart_option, open_view
from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_server.app import ServerThread
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade

RUNS = 1000
WIDE_RUNS, WIDE_POINTS = 50, 10_000


@dataclass
class Big:
    url: str
    wide_runs: list[str]


def _hparam(value: float | str) -> pb.HParamValue:
    return (
        pb.HParamValue(float_value=value) if isinstance(value, float) else pb.HParamValue(string_value=value)
    )


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    """Logged over the real gRPC wire: 1,000 runs with 3 hyperparameters and 2 metrics each, and 50
    runs of 10,000 points each."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('perf') / 'tracker.db'}", pool_size=4)
    upgrade(db)
    rng = np.random.default_rng(1)
    with ServerThread(db, http_port=0) as server, grpc.insecure_channel(server.address) as channel:
        runs, ingest = pb_grpc.RunServiceStub(channel), pb_grpc.IngestServiceStub(channel)
        for i in range(RUNS):
            hparams = {"lr": _hparam(float(10 ** rng.uniform(-4, 0))), "opt": _hparam(["adam", "sgd"][i % 2])}
            hparams["dropout"] = _hparam(float(rng.uniform(0, 0.5)))
            run_id = runs.CreateRun(
                pb.CreateRunRequest(project="big", name=f"run-{i:04d}", hparams=hparams)
            ).run.id
            columns = [
                pb.ScalarColumn(tag=tag, steps=[0], wall_times=[time.time()], values=[float(rng.random())])
                for tag in ("loss", "acc")
            ]
            ingest.WriteOne(pb.WriteBatch(run_id=run_id, writer_id="perf", seq=1, scalars=columns))
            runs.FinishRun(pb.FinishRunRequest(run_id=run_id, status=pb.RUN_STATUS_FINISHED))
        wide = []
        steps = np.arange(WIDE_POINTS, dtype=np.int64)
        for i in range(WIDE_RUNS):
            run_id = runs.CreateRun(pb.CreateRunRequest(project="wide", name=f"wide-{i:02d}")).run.id
            values = np.exp(-steps / (2000 + 50 * i)) + 0.02 * rng.standard_normal(WIDE_POINTS)
            column = pb.ScalarColumn(
                tag="loss", steps=steps, wall_times=np.full(WIDE_POINTS, time.time()), values=values
            )
            ingest.WriteOne(pb.WriteBatch(run_id=run_id, writer_id="perf", seq=1, scalars=[column]))
            wide.append(run_id)
        yield Big(server.url or "", wide)
    db.dispose()


_START = """(hash) => {
  window.__t0 = performance.now();
  document.body.dataset.ready = "false";
  location.hash = hash;
}"""


_PAINTED = """() => new Promise((done) =>
  requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - window.__t0))))"""


def _timed_navigation(page: Page, hash_: str, drawn: str) -> float:
    """Milliseconds from setting the URL hash to ``drawn`` (a JS condition) holding and the next
    frame painted, by performance.now() in the page."""
    page.evaluate(_START, hash_)
    page.wait_for_selector("body[data-ready=true]", timeout=READY_TIMEOUT_MS * 2)
    page.wait_for_function(drawn, timeout=READY_TIMEOUT_MS * 2)
    return float(page.evaluate(_PAINTED))


def test_a_thousand_runs_and_fifty_ten_thousand_point_series(big: Big, page: Page) -> None:
    open_view(page, big.url + "/")
    count = "(document.querySelector('#run-count') || {}).textContent || ''"
    rows_drawn = f"() => ({count}).startsWith('{RUNS} of {RUNS} runs')"
    table_ms = [_timed_navigation(page, "#/p/big/runs", rows_drawn)]
    _timed_navigation(page, "#/", "() => document.querySelector('table.projects') !== null")
    table_ms.append(_timed_navigation(page, "#/p/big/runs", rows_drawn))  # a second opening
    assert page.locator("#view tbody tr[data-run]").count() > 10  # the scrolled window of the 1,000

    chart = f"#/p/wide/scalars?runs={','.join(big.wide_runs)}"
    chart_ms = _timed_navigation(page, chart, "() => document.querySelector('[data-tag=\"loss\"]') !== null")
    option = chart_option(page, '[data-tag="loss"]')
    names = {series.get("name") for series in option["series"]}
    assert {f"wide-{i:02d}" for i in range(WIDE_RUNS)} <= names

    figures = {
        "runs table, 1,000 runs (ms, first and second opening)": [round(ms) for ms in table_ms],
        "scalars chart, 50 runs x 10,000 points (ms)": round(chart_ms),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS.parent / "ui-performance.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("\nUI performance:", json.dumps(figures))

"""The issue's "done when", in a browser: after the `tracker demo` sweep, the UI alone answers
"which hyperparameters won?" (the runs table sorted by val/accuracy, and the HParams axes) and
"did any run diverge?" (the NaN/Inf marks on the loss curves), exactly as the data says."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.web.conftest import chart_option, open_view
from tracker_server.app import ServerThread
from tracker_server.demo import run_demo
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The UI's address, with the demo's 12 runs logged by the demo's own code."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'tracker.db'}", pool_size=4)
    upgrade(db)
    with ServerThread(db, http_port=0) as server:
        run_demo(server.address, out=lambda _: None)
        yield server.url or ""
    db.dispose()


def api(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}/api/{path}", timeout=10) as response:
        return json.load(response)


def test_which_hyperparameters_won(sweep: str, page: Page) -> None:
    table = api(sweep, "projects/demo/runs")
    finite = [r for r in table["runs"] if isinstance(r["metrics"].get("val/accuracy"), float)]
    best = max(finite, key=lambda r: r["metrics"]["val/accuracy"])

    open_view(page, f"{sweep}/#/p/demo/runs?sort=m:val/accuracy&order=desc")
    first = page.locator("#runs-table tbody tr[data-run]").first
    assert first.get_attribute("data-run") == best["id"]
    row = first.inner_text()
    for name in ("lr", "hidden", "activation"):
        assert str(best["hparams"][name]) in row

    open_view(page, f"{sweep}/#/p/demo/hparams?color=val/accuracy")
    axes = [axis["name"] for axis in chart_option(page, "[data-chart=parallel]")["parallelAxis"]]
    assert {"lr", "hidden", "activation", "val/accuracy", "train/loss"} <= set(axes)


def test_did_any_run_diverge(sweep: str, page: Page) -> None:
    table = api(sweep, "projects/demo/runs")
    diverged = set()
    for run in table["runs"]:
        loss = next(t for t in api(sweep, f"runs/{run['id']}/tags") if t["tag"] == "train/loss")
        if loss["summary"]["first_nonfinite_step"] is not None:
            diverged.add(run["id"])

    every = ",".join(r["id"] for r in table["runs"])
    open_view(page, f"{sweep}/#/p/demo/scalars?runs={every}&smoothing=0")
    series = chart_option(page, '[data-tag="train/loss"]')["series"]
    marked = {s["id"].split(":", 1)[1] for s in series if s["id"].startswith("nan:")}
    assert marked == diverged

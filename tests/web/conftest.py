"""Browser tests: Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``), driven by
Playwright for Python, against a real server whose data was logged through the real client.

They run on SQLite only: what they check is the UI; every query they make is covered on both
databases by tests/http. Each test gets a fresh browser context (no storage carried over) and
fails if the page logged a console error (a Content-Security-Policy violation is one). Screenshots
go to ``test-artifacts/screenshots/`` (``save_screenshot``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

import tracker_client as tracker
from tracker_server.app import ServerThread
from tracker_server.domain import members, users
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade

CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
XSS = "<img src=x onerror=window.__xss=1>"
READY_TIMEOUT_MS = 15_000


@dataclass
class Demo:
    """What the demo project holds, for assertions."""

    url: str
    address: str
    project: str = "demo"
    runs: dict[str, str] = field(default_factory=dict)  # name -> id
    steps: int = 200


def _log_demo(address: str) -> dict[str, str]:
    """A small sweep: lr x 3 seeds (a diverging lr=1.0), losses and accuracies, weight histograms,
    a PR curve, a text summary; one run with hostile names everywhere."""
    ids = {}
    rng = np.random.default_rng(0)
    for lr in (0.01, 0.1, 1.0):
        for seed in range(3):
            name = f"lr={lr} seed={seed}"
            with tracker.init(
                project="demo",
                name=name,
                hparams={"lr": lr, "seed": seed, "optimizer": "adam"},
                server=address,
            ) as run:
                for step in range(200):
                    if lr == 1.0 and step >= 150:
                        loss = math.nan
                    else:
                        loss = math.exp(-lr * step / 20) + 0.05 * seed + 0.01 * rng.standard_normal()
                    run.log(
                        {"train/loss": loss, "eval/acc": 1 - loss / 2 if math.isfinite(loss) else math.nan},
                        step=step,
                    )
                    if step % 50 == 0:
                        run.log_histogram("weights/layer1", rng.normal(0, 1 + step / 100, 500), step=step)
                run.log_pr_curve("pr/class0", rng.integers(0, 2, 100), rng.random(100), step=199)
                run.log_text("notes", f"**lr** = {lr}, seed {seed}", step=0)
            ids[name] = run.id
    with tracker.init(
        project="demo", name=XSS, hparams={XSS: XSS, "lr": 0.5, "seed": 9}, server=address
    ) as run:
        for step in range(10):
            run.log({XSS: float(step), "train/loss": 1.0 / (step + 1)}, step=step)
        run.log_text(XSS, XSS, step=0)
    ids[XSS] = run.id
    return ids


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """A server (gRPC + HTTP, no authentication) with the demo project logged through the client."""
    path = tmp_path_factory.mktemp("web") / "tracker.db"
    db = Database(f"sqlite:///{path}", pool_size=4)
    upgrade(db)
    with ServerThread(db, http_port=0) as server:
        assert server.url is not None
        found = Demo(url=server.url, address=server.address)
        found.runs = _log_demo(server.address)
        yield found
    db.dispose()


@dataclass
class Team:
    """A server with --auth token: alice (writer of 'vision'), bob (member of nothing)."""

    url: str
    db: Database
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    path = tmp_path_factory.mktemp("web-team") / "tracker.db"
    db = Database(f"sqlite:///{path}", pool_size=4)
    upgrade(db)
    for name in ("alice", "bob"):
        users.create_user(db, name)
    members.create_project(db, "vision", owner="alice")
    members.create_project(db, "secret", owner="bob")
    tokens = {name: users.create_token(db, name)[0] for name in ("alice", "bob")}
    with ServerThread(db, http_port=0, auth="token") as server:
        assert server.url is not None
        with tracker.init(
            project="vision", name="resnet", server=server.address, token=tokens["alice"]
        ) as run:
            run.log({"loss": 1.0}, step=0)
        yield Team(url=server.url, db=db, tokens=tokens)
    db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context and page; console errors (CSP violations among them) fail the test, except
    the browser's report of a 401 answer, which the login flow expects."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 401 is how the app learns it must show the login screen; the browser reports it too.
        if message.type == "error" and "status of 401" not in message.text:
            errors.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], errors


def open_view(page: Page, url: str) -> Page:
    """Go to ``url`` and wait until the app says the view is drawn (body[data-ready=true])."""
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=READY_TIMEOUT_MS)
    return page


def save_screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_OPTION_OF = """(selector) => {
  const node = document.querySelector(selector);
  const chart = node && echarts.getInstanceByDom(node);
  return chart ? JSON.parse(JSON.stringify(chart.getOption())) : null;
}"""


def chart_option(page: Page, selector: str) -> Any:
    """The ECharts option of the chart drawn in the element ``selector`` (series, axes...); None
    when no chart is drawn there."""
    return page.evaluate(_OPTION_OF, selector)

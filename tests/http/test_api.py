"""The JSON API behind the web UI, over real HTTP, on both databases: what it returns, that
non-finite numbers survive, its security headers and OpenAPI document, and that every route is
authenticated and authorized like the gRPC calls (routes enumerated from the OpenAPI document, so
a new route is checked at once)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import tracker_client as tracker
from tests.conftest import BACKENDS, fresh_database_url
from tracker_server.app import ServerThread
from tracker_server.domain import members, users
from tracker_server.store.engine import Database

TIMEOUT = 10


@dataclass
class Site:
    url: str
    db: Database
    tokens: dict[str, str]
    run_id: str


def fetch(url: str, token: str | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read()
            status, headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        body, status, headers = error.read(), error.code, dict(error.headers)
    is_json = headers.get("content-type", "").startswith("application/json")
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(body) if is_json else body


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    urls = fresh_database_url(request.param, request, tmp_path_factory.mktemp("http"))
    db = Database(next(urls), pool_size=4)
    for name in ("alice", "dave"):
        users.create_user(db, name)
    users.create_user(db, "root", admin=True)
    members.create_project(db, "alpha", owner="root")
    members.grant(db, "alpha", "alice", "viewer")
    members.create_project(db, "beta", owner="dave")
    tokens = {name: users.create_token(db, name)[0] for name in ("root", "alice", "dave")}
    with ServerThread(db, http_port=0, auth="token") as server:
        assert server.url is not None
        with tracker.init(
            project="alpha",
            name="r1",
            hparams={"lr": 0.1, "opt": "adam"},
            server=server.address,
            token=tokens["root"],
        ) as run:
            for step, value in enumerate([1.0, math.nan, math.inf, -math.inf, 0.5]):
                run.log({"loss": value}, step=step)
            for step in range(5, 1005):
                run.log({"acc": step / 1005}, step=step)
            run.log_histogram("w", np.arange(10.0), step=0)
            run.log_pr_curve("pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3]), step=3)
            run.log_text("notes", "<b>plain</b>", step=0)
        yield Site(server.url, db, tokens, run.id)
    db.dispose()
    next(urls, None)


def test_a_run_round_trips_with_non_finite_values_spelled_out(site: Site) -> None:
    status, _, table = fetch(f"{site.url}/api/projects/alpha/runs", site.tokens["alice"])
    assert status == 200
    (run,) = table["runs"]
    assert (table["hparams"], table["metrics"]) == (["lr", "opt"], ["acc", "loss"])
    assert (run["id"], run["name"], run["status"], run["created_by"]) == (
        site.run_id,
        "r1",
        "finished",
        "root",
    )
    assert run["hparams"] == {"lr": 0.1, "opt": "adam"}
    assert run["metrics"] == {"loss": 0.5, "acc": 1004 / 1005}

    status, _, body = fetch(f"{site.url}/api/scalars?run={site.run_id}&tag=loss", site.tokens["alice"])
    assert status == 200
    (series,) = body["series"]
    assert series["steps"] == [0, 1, 2, 3, 4]
    assert series["values"] == [1.0, "NaN", "Infinity", "-Infinity", 0.5]
    assert series["total_points"] == 5


def test_scalars_are_downsampled_on_request_and_windowed_by_step(site: Site) -> None:
    base = f"{site.url}/api/scalars?run={site.run_id}&tag=acc"
    _, _, full = fetch(base, site.tokens["alice"])
    assert len(full["series"][0]["steps"]) == 1000
    _, _, small = fetch(base + "&max_points=100", site.tokens["alice"])
    (series,) = small["series"]
    assert series["total_points"] == 1000 and len(series["steps"]) <= 100
    assert series["steps"][0] == 5 and series["steps"][-1] == 1004  # the ends survive downsampling
    _, _, window = fetch(base + "&start_step=100&end_step=109", site.tokens["alice"])
    assert window["series"][0]["steps"] == list(range(100, 110))


def test_histograms_distributions_pr_curves_and_texts(site: Site) -> None:
    token = site.tokens["alice"]
    _, _, tags = fetch(f"{site.url}/api/runs/{site.run_id}/tags", token)
    assert [(t["tag"], t["kind"]) for t in tags] == [
        ("acc", "scalar"),
        ("loss", "scalar"),
        ("w", "histogram"),
        ("pr", "pr_curve"),
        ("notes", "text"),
    ]
    loss = next(t for t in tags if t["tag"] == "loss")
    assert loss["summary"]["first_nonfinite_step"] == 1 and loss["summary"]["last_value"] == 0.5
    _, _, hist = fetch(f"{site.url}/api/runs/{site.run_id}/histograms?tag=w&bins=5", token)
    (h,) = hist["histograms"]
    assert (h["step"], h["count"], h["min"], h["max"]) == (0, 10.0, 0.0, 9.0)
    assert sum(h["counts"]) == 10.0
    _, _, dist = fetch(f"{site.url}/api/runs/{site.run_id}/distributions?tag=w", token)
    assert dist["basis_points"][0] == 0 and dist["steps"] == [0]
    assert dist["values"][0][0] == 0.0 and dist["values"][0][-1] == 9.0
    _, _, pr = fetch(f"{site.url}/api/runs/{site.run_id}/pr_curves?tag=pr", token)
    (curve,) = pr["curves"]
    assert curve["step"] == 3 and len(curve["precision"]) == len(curve["recall"]) > 0
    _, _, texts = fetch(f"{site.url}/api/runs/{site.run_id}/texts?tag=notes", token)
    assert texts == {
        "texts": [{"step": 0, "wall_time": texts["texts"][0]["wall_time"], "text": "<b>plain</b>"}]
    }


def test_groups_and_experiment_feed_the_hparams_views(site: Site) -> None:
    _, _, groups = fetch(f"{site.url}/api/projects/alpha/groups", site.tokens["alice"])
    assert groups["total"] == 1
    (group,) = groups["groups"]
    assert group["hparams"] == {"lr": 0.1, "opt": "adam"}
    assert [r["id"] for r in group["runs"]] == [site.run_id]
    _, _, experiment = fetch(f"{site.url}/api/projects/alpha/experiment", site.tokens["alice"])
    assert [(h["name"], h["type"]) for h in experiment["hparams"]] == [("lr", "number"), ("opt", "string")]
    assert next(h for h in experiment["hparams"] if h["name"] == "opt")["domain"] == {"values": ["adam"]}
    status, _, _ = fetch(f"{site.url}/api/projects/alpha/groups?metric_value=median", site.tokens["alice"])
    assert status == 422  # not one of last|min|max


def test_every_route_is_authenticated_and_authorized(site: Site) -> None:
    _, _, spec = fetch(f"{site.url}/api/openapi.json")
    paths = sorted(spec["paths"])
    assert "/api/scalars" in paths and "/api/projects/{project}/runs" in paths
    signed_in = {"/api/whoami", "/api/projects"}
    for path in paths:
        url = site.url + path.replace("{project}", "alpha").replace("{run_id}", site.run_id)
        tag = {"scalars": "loss", "pr_curves": "pr", "texts": "notes"}.get(path.rsplit("/", 1)[1], "w")
        url += f"?run={site.run_id}&tag={tag}" if path == "/api/scalars" else f"?tag={tag}"
        for token in (None, "trk_" + "A" * 43, "not-a-token"):
            status, _, body = fetch(url, token)
            assert status == 401, (path, token)
            assert "token" in body["error"]
        status, _, body = fetch(url, site.tokens["dave"])  # a member of beta only
        if path in signed_in:
            assert status == 200, path
        else:
            assert status == 403, (path, body)
            assert body["error"].startswith("'dave' is not a member of project 'alpha'")
        status, _, _ = fetch(url, site.tokens["alice"])
        assert status == 200, path
    _, _, listed = fetch(f"{site.url}/api/projects", site.tokens["dave"])
    assert [p["name"] for p in listed] == ["beta"]
    _, _, me = fetch(f"{site.url}/api/whoami", site.tokens["dave"])
    assert me == {"user": "dave", "is_admin": False, "auth": "token"}


def test_a_revoked_token_is_refused_on_its_next_request(site: Site) -> None:
    secret, info = users.create_token(site.db, "alice", name="browser")
    assert fetch(f"{site.url}/api/projects", secret)[0] == 200
    users.revoke_token(site.db, info.id)
    status, _, body = fetch(f"{site.url}/api/projects", secret)
    assert status == 401 and secret not in json.dumps(body)


def test_pages_carry_a_strict_content_security_policy(site: Site) -> None:
    status, headers, page = fetch(f"{site.url}/")
    assert status == 200 and b'<script type="module" src="/static/app.js">' in page
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    _, api_headers, _ = fetch(f"{site.url}/api/whoami", site.tokens["alice"])
    assert api_headers["cache-control"] == "no-store"
    assert "content-security-policy" in api_headers
    status, headers, _ = fetch(f"{site.url}/static/vendor/echarts/echarts.min.js")
    assert status == 200 and headers["content-type"].startswith(("text/javascript", "application/javascript"))

"""The HParams, Histograms/Distributions, PR curves and Text views, in a real browser against the
demo project: what a person sees (axes, rows left by a brush, points, ridgelines, bands, slider
steps, text) and that hostile names stay text everywhere."""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from typing import Any

from playwright.sync_api import Page

from tests.web.conftest import XSS, Demo, chart_option, open_view, save_screenshot

TIMEOUT_MS = 10_000
HPARAM_AXES = [XSS, "lr", "optimizer", "seed"]
METRIC_AXES = [XSS, "eval/acc", "train/loss"]


def url(demo: Demo, view: str, runs: list[str] | None = None, **params: str) -> str:
    query = dict(params)
    if runs is not None:
        query["runs"] = ",".join(demo.runs[name] for name in runs)
    suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
    return f"{demo.url}/#/p/demo/{view}{suffix}"


def api(demo: Demo, path: str) -> Any:
    with urllib.request.urlopen(f"{demo.url}/api/{path}") as response:
        return json.load(response)


def hash_params(page: Page) -> tuple[str, dict[str, str]]:
    path, _, query = page.evaluate("location.hash").partition("?")
    return path, dict(urllib.parse.parse_qsl(query))


_BRUSH = """([dim, intervals]) => {
  const chart = echarts.getInstanceByDom(document.querySelector('[data-chart=parallel]'));
  chart.dispatchAction({type: 'axisAreaSelect', parallelAxisId: 'axis' + dim, intervals});
}"""

# The page position of a point `t` of the way from (value a on axis i) to (value b on axis j).
_PARALLEL_POINT = """([i, a, j, b, t]) => {
  const node = document.querySelector('[data-chart=parallel]');
  node.scrollIntoView({block: 'center'});
  const cs = echarts.getInstanceByDom(node).getModel().getComponent('parallel').coordinateSystem;
  const p = cs.dataToPoint(a, 'dim' + i), q = cs.dataToPoint(b, 'dim' + j);
  const box = node.getBoundingClientRect();
  return [box.left + p[0] + t * (q[0] - p[0]), box.top + p[1] + t * (q[1] - p[1])];
}"""

_SCATTER_POINT = """([x, y]) => {
  const node = document.querySelector('[data-chart=scatter]');
  node.scrollIntoView({block: 'center'});
  const [px, py] = echarts.getInstanceByDom(node).convertToPixel({seriesIndex: 0}, [x, y]);
  const box = node.getBoundingClientRect();
  return [box.left + px, box.top + py];
}"""


# Whether a tooltip (a div the chart library adds in the chart's element) shows `text` as text.
_TOOLTIP_SHOWS = """([selector, text]) =>
  [...document.querySelectorAll(selector + ' div')].some((d) => d.textContent.includes(text))"""


def hover(page: Page, x: float, y: float) -> None:
    """Move the mouse onto (x, y) from a pixel away (a chart reacts to a move, not to a jump)."""
    page.mouse.move(x - 1, y)
    page.mouse.move(x, y)


def table_runs(page: Page) -> list[str]:
    return page.locator("#hp-table tbody td.name").all_inner_texts()


def test_parallel_coordinates_axes_colour_log_and_brush(page: Page, demo: Demo) -> None:
    open_view(page, url(demo, "hparams"))
    option = chart_option(page, "[data-chart=parallel]")
    axes = option["parallelAxis"]
    assert [a["name"] for a in axes] == HPARAM_AXES + METRIC_AXES
    optimizer = axes[2]
    assert optimizer["type"] == "category" and "adam" in optimizer["data"]
    assert axes[1]["type"] == "value"
    assert len(option["series"][0]["data"]) == 10
    assert page.locator("#hp-summary").inner_text().startswith("10 runs")
    assert len(table_runs(page)) == 10
    assert "brush" not in hash_params(page)[1]

    # Colour by a metric: a visualMap on its axis, kept in the URL.
    page.select_option("#hp-color", "eval/acc")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart=parallel]'))"
        ".getOption().visualMap?.[0]?.dimension === 5",
        timeout=TIMEOUT_MS,
    )
    assert hash_params(page)[1]["color"] == "eval/acc"

    # Log scale on lr; seed (which has a 0) cannot be.
    page.check("input[data-log=lr]")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart=parallel]'))"
        ".getOption().parallelAxis[1].type === 'log'",
        timeout=TIMEOUT_MS,
    )
    assert hash_params(page)[1]["log"] == "lr"
    assert page.locator("input[data-log=seed]").is_disabled()
    save_screenshot(page, "hparams")

    # Brush lr to [0.05, 0.2]: the three lr=0.1 runs are left, in the summary and in the table.
    page.evaluate(_BRUSH, [1, [[0.05, 0.2]]])
    page.wait_for_function(
        "() => document.querySelector('#hp-count')?.textContent === '3 of 10 runs'", timeout=TIMEOUT_MS
    )
    expected = [f"lr=0.1 seed={s}" for s in range(3)]
    assert sorted(table_runs(page)) == expected
    assert sorted(page.locator(".hp-chips a").all_inner_texts()) == expected
    # A second brush on eval/acc narrows it further; the table sorts by a metric.
    page.evaluate(_BRUSH, [5, [[0.78, 1.0]]])
    page.wait_for_function(
        "() => document.querySelector('#hp-count')?.textContent === '2 of 10 runs'", timeout=TIMEOUT_MS
    )
    page.locator("#hp-table th", has_text="eval/acc").click()
    assert table_runs(page) == ["lr=0.1 seed=1", "lr=0.1 seed=0"]
    page.locator("#hp-table th", has_text="eval/acc").click()
    assert table_runs(page) == ["lr=0.1 seed=0", "lr=0.1 seed=1"]
    # The brushes survive a redraw (turning log scale off) and a reload (they are in the URL),
    # and clear.
    page.uncheck("input[data-log=lr]")
    assert page.locator("#hp-count").inner_text() == "2 of 10 runs"
    assert json.loads(hash_params(page)[1]["brush"]) == {"lr": [[0.05, 0.2]], "eval/acc": [[0.78, 1.0]]}
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function(
        "() => document.querySelector('#hp-count')?.textContent === '2 of 10 runs'", timeout=TIMEOUT_MS
    )
    assert sorted(table_runs(page)) == ["lr=0.1 seed=0", "lr=0.1 seed=1"]
    page.click("#hp-clear")
    page.wait_for_function(
        "() => document.querySelector('#hp-summary').textContent.startsWith('10 runs')", timeout=TIMEOUT_MS
    )
    assert len(table_runs(page)) == 10


def test_options_come_back_from_the_url(page: Page, demo: Demo) -> None:
    open_view(page, url(demo, "hparams", color="train/loss", log="lr", metric_value="min"))
    option = chart_option(page, "[data-chart=parallel]")
    assert option["parallelAxis"][1]["type"] == "log"
    assert option["visualMap"][0]["dimension"] == 6
    assert page.locator("#hp-metric-value").input_value() == "min"
    # metric_value=min: a diverged run's minimum loss is finite, so every run has a value.
    assert "NaN" not in page.locator("#hp-table").inner_text()


def test_grouping_leaves_seeds_out_unless_asked(page: Page, demo: Demo) -> None:
    """With grouping on, runs differing only by seed are one row (3 seeds of each lr), aggregated;
    unticking "except seed" groups by every hparam again (each run alone)."""
    open_view(page, url(demo, "hparams", group="1"))
    axes = [axis["name"] for axis in chart_option(page, "[data-chart=parallel]")["parallelAxis"]]
    assert "seed" not in axes and "lr" in axes
    rows = page.locator("#hp-table tbody tr")
    assert rows.count() == 4  # lr 0.01, 0.1 and 1.0 (3 seeds each), and the hostile run alone
    groups = api(demo, "projects/demo/groups?grouped=true&ignore=seed")["groups"]
    assert sorted(len(g["runs"]) for g in groups) == [1, 3, 3, 3]
    assert all("seed" not in g["hparams"] for g in groups)
    page.uncheck("#hp-ignore-seeds")
    page.wait_for_function("() => document.querySelectorAll('#hp-table tbody tr').length === 10")
    assert hash_params(page)[1]["seeds"] == "keep"


def test_clicking_a_line_opens_that_runs_curves(page: Page, demo: Demo) -> None:
    open_view(page, url(demo, "hparams", runs=["lr=0.01 seed=0"]))
    acc = api(demo, "projects/demo/runs")["runs"]
    finite = [r for r in acc if isinstance(r["metrics"].get("eval/acc"), float)]
    best = max(finite, key=lambda r: r["metrics"]["eval/acc"])
    assert best["name"] == "lr=0.1 seed=0"
    # On its segment from the seed axis to the eval/acc axis, near the eval/acc end.
    x, y = page.evaluate(_PARALLEL_POINT, [3, 0, 5, best["metrics"]["eval/acc"], 0.75])
    page.mouse.click(x, y)
    page.wait_for_function("() => location.hash.startsWith('#/p/demo/scalars')", timeout=TIMEOUT_MS)
    assert hash_params(page)[1]["runs"] == best["id"]


def test_scatter_one_point_per_run_and_click(page: Page, demo: Demo) -> None:
    open_view(page, url(demo, "hparams", x="lr", y="train/loss"))
    option = chart_option(page, "[data-chart=scatter]")
    assert option["xAxis"][0]["name"] == "lr" and option["yAxis"][0]["name"] == "train/loss"
    points = sorted(tuple(p["value"]) for p in option["series"][0]["data"])
    runs = api(demo, "projects/demo/runs")["runs"]
    expected = sorted(
        (r["hparams"]["lr"], r["metrics"]["train/loss"])
        for r in runs
        if isinstance(r["metrics"].get("train/loss"), float) and math.isfinite(r["metrics"]["train/loss"])
    )
    assert points == expected and len(points) == 7
    assert "3 runs without a finite train/loss" in page.locator(".hp-note").inner_text()
    # A categorical hyperparameter gives a category axis.
    page.select_option("#hp-x", "optimizer")
    page.wait_for_function(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart=scatter]'))"
        ".getOption().xAxis[0].type === 'category'",
        timeout=TIMEOUT_MS,
    )
    page.select_option("#hp-x", "lr")
    target = next(r for r in runs if r["name"] == "lr=0.01 seed=2")
    x, y = page.evaluate(_SCATTER_POINT, [target["hparams"]["lr"], target["metrics"]["train/loss"]])
    page.mouse.click(x, y)
    page.wait_for_function("() => location.hash.startsWith('#/p/demo/scalars')", timeout=TIMEOUT_MS)
    assert hash_params(page)[1]["runs"] == target["id"]


def test_histograms_offset_and_overlay(page: Page, demo: Demo) -> None:
    names = ["lr=0.01 seed=0", "lr=0.1 seed=0", "lr=1.0 seed=0"]
    open_view(page, url(demo, "histograms", runs=names))
    charts = page.locator("[data-chart=histogram]")
    assert charts.count() == 3
    first = f"[data-chart=histogram][data-run='{demo.runs[names[0]]}'][data-tag='weights/layer1']"
    option = chart_option(page, first)
    series = option["series"]
    assert [s["name"] for s in series] == ["step 0", "step 50", "step 100", "step 150"]
    # Offset: each step lifted above the next newer one, the newest at the bottom, in front.
    bases = [min(p[1] - p[2] for p in s["data"]) for s in series]
    assert bases[0] > bases[1] > bases[2] > bases[3] == 0
    assert series[3]["z"] > series[0]["z"]
    assert all(s.get("areaStyle") for s in series)
    save_screenshot(page, "histograms")

    page.click("#hist-mode button[data-value=overlay]")
    page.wait_for_function(
        f'() => !echarts.getInstanceByDom(document.querySelector("{first}")).getOption().series[0].areaStyle',
        timeout=TIMEOUT_MS,
    )
    series = chart_option(page, first)["series"]
    assert len(series) == 4
    assert all(p[1] == p[2] for s in series for p in s["data"])
    assert hash_params(page)[1]["mode"] == "overlay"
    counts = api(demo, f"runs/{demo.runs[names[0]]}/histograms?tag=weights/layer1")["histograms"]
    assert sum(p[2] for p in series[0]["data"]) == sum(counts[0]["counts"])


def test_distributions_bands_and_median(page: Page, demo: Demo) -> None:
    names = ["lr=0.01 seed=0", "lr=0.1 seed=0", "lr=1.0 seed=0"]
    open_view(page, url(demo, "histograms", runs=names, show="distributions"))
    assert page.locator("[data-chart=distribution]").count() == 3
    run = demo.runs[names[0]]
    option = chart_option(page, f"[data-chart=distribution][data-run='{run}']")
    by_name = {s["name"]: s for s in option["series"]}
    for band in ("min–max", "±1.5σ", "±1σ", "±0.5σ"):
        assert by_name[band]["areaStyle"] and by_name[band]["stack"]
    found = api(demo, f"runs/{run}/distributions?tag=weights/layer1")
    assert by_name["median"]["data"] == [
        [s, v[4]] for s, v in zip(found["steps"], found["values"], strict=True)
    ]
    # The outer band spans min to max.
    lower, width = by_name["min–max (lower)"]["data"][0][1], by_name["min–max"]["data"][0][1]
    assert math.isclose(lower, found["values"][0][0]) and math.isclose(lower + width, found["values"][0][8])
    save_screenshot(page, "distributions")


def test_pr_curve_with_step_slider(page: Page, demo: Demo) -> None:
    names = ["lr=0.01 seed=0", "lr=0.1 seed=0", "lr=1.0 seed=0"]
    open_view(page, url(demo, "pr", runs=names))
    assert page.locator("[data-chart=pr]").count() == 3
    card = page.locator(".card", has=page.locator(f"[data-chart=pr][data-run='{demo.runs[names[1]]}']"))
    assert card.locator("datalist option").evaluate_all("(os) => os.map((o) => o.label)") == ["199"]
    assert card.locator("input[type=range]").get_attribute("data-steps") == "199"
    assert card.locator("output").inner_text() == "step 199"
    series = chart_option(page, f"[data-chart=pr][data-run='{demo.runs[names[1]]}']")["series"]
    assert series[0]["name"] == "step 199"
    curve = api(demo, f"runs/{demo.runs[names[1]]}/pr_curves?tag=pr/class0")["curves"][0]
    drawn = [p["value"] for p in series[0]["data"]]
    assert drawn == [[r, p] for r, p in zip(curve["recall"], curve["precision"], strict=True)]
    assert all(0 <= r <= 1 and 0 <= p <= 1 for r, p in drawn)
    save_screenshot(page, "pr")


def test_text_is_plain_text(page: Page, demo: Demo) -> None:
    names = [f"lr={lr} seed=0" for lr in (0.01, 0.1, 1.0)]
    open_view(page, url(demo, "text", runs=names))
    texts = page.locator(".text-list pre").all_text_contents()
    assert texts == [f"**lr** = {lr}, seed 0" for lr in (0.01, 0.1, 1.0)]
    assert page.locator(".text-list strong, .text-list b, .text-list em").count() == 0
    save_screenshot(page, "text")


def test_hostile_names_stay_text_in_every_view(page: Page, demo: Demo) -> None:
    names = [XSS, "lr=0.1 seed=0"]
    open_view(page, url(demo, "hparams", runs=names, color=XSS))
    assert XSS in table_runs(page)
    assert page.locator("#hp-table th", has_text=XSS).count() == 2
    assert page.locator("#hp-color option", has_text=XSS).count() == 1
    # Hover the hostile run's line (lr 0.5 -> its own hparam axis) and point: tooltips escape it.
    x, y = page.evaluate(_PARALLEL_POINT, [1, 0.5, 2, "(none)", 0.5])
    hover(page, x, y)
    page.wait_for_function(_TOOLTIP_SHOWS, arg=["[data-chart=parallel]", XSS], timeout=TIMEOUT_MS)
    page.evaluate(_BRUSH, [1, [[0.4, 0.6]]])
    page.wait_for_function("() => document.querySelector('#hp-count')?.textContent === '1 of 10 runs'")
    assert page.locator(".hp-chips a").all_inner_texts() == [XSS]
    page.select_option("#hp-x", XSS)
    page.select_option("#hp-y", XSS)
    x, y = page.evaluate(_SCATTER_POINT, [XSS, 9])
    hover(page, x, y)
    page.wait_for_function(_TOOLTIP_SHOWS, arg=["[data-chart=scatter]", XSS], timeout=TIMEOUT_MS)
    for view, params in [
        ("histograms", {}),
        ("histograms", {"show": "distributions"}),
        ("pr", {}),
        ("text", {}),
    ]:
        open_view(page, url(demo, view, runs=names, **params))
        for chart in page.locator("[data-chart]").all():
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box is not None
            hover(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if view == "text":
            assert page.locator(f".text-list[data-tag='{XSS}'] pre").text_content() == XSS
            assert page.locator(".tag-section h2", has_text=XSS).count() == 1
            assert page.locator(".card h3", has_text=XSS).count() == 1
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0

"""The runs table and the scalars charts, as a person uses them: sort, filter, select, open in
Scalars; smoothing, log scale, x axis, hover, zoom, non-finite points, grouping seeds; hostile run
names shown as text."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page

import tracker_client as tracker
from tests.web.conftest import XSS, Demo, chart_option, open_view, save_screenshot

TIMEOUT_MS = 10_000
CHART_OF_TAG = "echarts.getInstanceByDom(document.querySelector(`[data-tag='${CSS.escape(tag)}']`))"


def hash_params(page: Page) -> dict[str, list[str]]:
    fragment = urlparse(page.url).fragment
    return parse_qs(fragment.partition("?")[2], keep_blank_values=True)


def visible_names(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "#runs-table tbody tr[data-run] td.name a", "nodes => nodes.map(n => n.textContent)"
    )


def metric_column(page: Page, tag: str) -> list[str]:
    return page.evaluate(
        """(tag) => {
          const ths = [...document.querySelectorAll('#runs-table thead tr:last-child th')];
          const i = ths.findIndex(th => th.dataset.key === 'm:' + tag);
          return [...document.querySelectorAll('#runs-table tbody tr[data-run]')]
            .map(tr => tr.children[i].textContent);
        }""",
        tag,
    )


def test_runs_table_sort_filter_select_open(page: Page, demo: Demo) -> None:
    open_view(page, f"{demo.url}/#/p/demo/runs")
    assert len(visible_names(page)) == 10
    headers = page.eval_on_selector_all("#runs-table thead th[data-key]", "ns => ns.map(n => n.textContent)")
    for column in (
        "name",
        "status",
        "created by",
        "created",
        "lr",
        "seed",
        "optimizer",
        "train/loss",
        "eval/acc",
    ):
        assert column in headers
    # The hostile name is text, never markup.
    assert XSS in visible_names(page)
    assert page.evaluate("window.__xss") is None

    # Sort by the last train/loss: ascending, NaN (the diverged lr=1.0 runs) last; then descending.
    page.click('#runs-table th[data-key="m:train/loss"]')
    values = metric_column(page, "train/loss")
    finite = [float(v) for v in values if v != "NaN"]
    assert finite == sorted(finite) and len(finite) == 7
    assert values[-3:] == ["NaN"] * 3
    assert visible_names(page)[:2] == [XSS, "lr=0.1 seed=0"]  # its last loss is 1/10
    page.click('#runs-table th[data-key="m:train/loss"]')
    values = metric_column(page, "train/loss")
    assert [float(v) for v in values if v != "NaN"] == sorted(finite, reverse=True)
    assert values[-3:] == ["NaN"] * 3  # last either way
    assert hash_params(page)["sort"] == ["m:train/loss"] and hash_params(page)["order"] == ["desc"]

    # Filters: a substring of the name, key=value on a hyperparameter, a numeric comparison.
    page.fill("#run-filter", "seed=2")
    assert sorted(visible_names(page)) == ["lr=0.01 seed=2", "lr=0.1 seed=2", "lr=1.0 seed=2"]
    page.fill("#run-filter", "lr=0.1")
    assert sorted(visible_names(page)) == ["lr=0.1 seed=0", "lr=0.1 seed=1", "lr=0.1 seed=2"]
    page.fill("#run-filter", "lr>=0.5 seed!=9")
    assert sorted(visible_names(page)) == ["lr=1.0 seed=0", "lr=1.0 seed=1", "lr=1.0 seed=2"]
    page.fill("#run-filter", "0.01 seed=1")
    assert visible_names(page) == ["lr=0.01 seed=1"]
    assert "1 of 10 runs" in page.inner_text("#run-count")

    # Selection: clear, then select the visible lr=0.1 rows with the header checkbox, plus one more.
    page.click("#clear-selection")
    assert hash_params(page)["runs"] == [""]
    page.fill("#run-filter", "lr=0.1")
    page.check("#select-all")
    page.fill("#run-filter", "")
    page.check(f'#runs-table tr[data-run="{demo.runs["lr=0.01 seed=0"]}"] input[type=checkbox]')
    chosen = {demo.runs[n] for n in ("lr=0.1 seed=0", "lr=0.1 seed=1", "lr=0.1 seed=2", "lr=0.01 seed=0")}
    assert set(hash_params(page)["runs"][0].split(",")) == chosen
    assert "4 selected" in page.inner_text("#run-count")
    save_screenshot(page, "runs")

    # Reload: the selection, sort and check marks come back from the URL.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    checked = page.eval_on_selector_all(
        "#runs-table tbody tr[data-run]",
        "trs => trs.filter(t => t.querySelector('input').checked).map(t => t.dataset.run)",
    )
    assert set(checked) == chosen

    page.click("#open-scalars")
    page.wait_for_url("**/scalars?**")
    page.wait_for_selector("body[data-ready=true]")
    assert set(hash_params(page)["runs"][0].split(",")) == chosen
    option = chart_option(page, '[data-tag="train/loss"]')
    assert {s["id"].split(":", 1)[1] for s in option["series"] if s["id"].startswith("smooth:")} == chosen


def test_runs_table_with_1000_runs_sorts_filters_and_selects(page: Page, demo: Demo) -> None:
    """A synthetic project of 1,000 runs (the API answer replaced in the browser). How fast it opens
    is measured, not asserted, by test_performance.py."""
    runs = [
        {
            "id": f"{i:032x}",
            "name": f"sweep-{i:04d}",
            "status": "finished" if i % 7 else "running",
            "created_at": "2025-01-01T00:00:00+00:00",
            "finished_at": None,
            "created_by": "local",
            "hparams": {"lr": 10 ** -(i % 5), "seed": i % 3, "layers": i % 8, "opt": "adam"},
            "metrics": {"train/loss": 1 / (i + 1), "eval/acc": (i % 100) / 100, "eval/f1": "NaN"},
        }
        for i in range(1000)
    ]
    body = {
        "hparams": ["layers", "lr", "opt", "seed"],
        "metrics": ["eval/acc", "eval/f1", "train/loss"],
        "runs": runs,
    }
    page.route("**/api/projects/big/runs", lambda route: route.fulfill(json=body))
    open_view(page, f"{demo.url}/#/p/big/runs")
    assert page.inner_text("#run-count").startswith("1000 of 1000 runs")
    # Only the scrolled window of rows is in the page; scrolling to the end draws the last ones.
    assert 10 < page.locator("#runs-table tbody tr[data-run]").count() < 200
    page.eval_on_selector(".table-wrap", "w => { w.scrollTop = w.scrollHeight; }")
    page.wait_for_selector(f'#runs-table tr[data-run="{999:032x}"]')
    page.click('#runs-table th[data-key="m:eval/acc"]')
    page.fill("#run-filter", "layers=3")
    assert page.inner_text("#run-count").startswith("125 of 1000 runs")
    rows = page.eval_on_selector_all(
        "#runs-table tbody tr[data-run] td.name a", "ns => ns.map(n => n.textContent)"
    )
    assert rows and all(int(name.removeprefix("sweep-")) % 8 == 3 for name in rows)
    page.click("#clear-selection")  # the last 10 runs are selected by default
    page.check("#select-all")
    assert len(hash_params(page)["runs"][0].split(",")) == 125


def series_by(option: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [s for s in option["series"] if s["id"].startswith(prefix)]


SWEEP = [f"lr={lr} seed={seed}" for lr in (0.01, 0.1, 1.0) for seed in range(3)]


def scalars_url(demo: Demo, names: list[str], extra: str = "") -> str:
    ids = ",".join(demo.runs[n] for n in names)
    return f"{demo.url}/#/p/demo/scalars?runs={ids}{extra}"


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased EMA (non-finite values passed through and skipped)."""
    last, count, out = 0.0, 0, []
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        last = last * weight + (1 - weight) * v
        count += 1
        out.append(last / (1 - weight**count))
    return out


def raw_values(series: dict[str, Any]) -> list[float]:
    return [float(p[2]) if p[2] is not None else math.nan for p in series["data"]]


def smoothed_of(page: Page, tag: str, run_id: str) -> list[Any]:
    option = chart_option(page, f'[data-tag="{tag}"]')
    return next(s for s in option["series"] if s["id"] == f"smooth:{run_id}")["data"]


def wait_chart(page: Page, tag: str, condition: str, arg: Any = None) -> None:
    """Wait until ``condition`` (JS, given the chart's option and arg) holds for the tag's chart."""
    page.wait_for_function(
        f"""([tag, arg]) => {{
          const node = document.querySelector(`[data-tag="${{CSS.escape(tag)}}"]`);
          const chart = node && echarts.getInstanceByDom(node);
          if (!chart) return false;
          const option = chart.getOption();
          return ({condition});
        }}""",
        arg=[tag, arg],
        timeout=TIMEOUT_MS,
    )


def x_extent(page: Page, tag: str) -> list[float]:
    return page.evaluate(
        f"(tag) => {CHART_OF_TAG}.getModel().getComponent('xAxis', 0).axis.scale.getExtent()",
        tag,
    )


def hover_tooltip(page: Page, tag: str, step: float) -> str:
    """Move the mouse over the chart at ``step`` (on the step x axis) and read the tooltip."""
    chart = page.locator(f'[data-tag="{tag}"]')
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    x = page.evaluate(
        f"([tag, step]) => {CHART_OF_TAG}.convertToPixel({{xAxisIndex: 0}}, step)",
        [tag, step],
    )
    tooltip = chart.locator(".chart-tooltip")
    page.mouse.move(0, 0)
    if tooltip.count():
        tooltip.wait_for(state="hidden", timeout=TIMEOUT_MS)
    page.mouse.move(box["x"] + x, box["y"] + box["height"] * 0.5)
    tooltip.wait_for(state="visible", timeout=TIMEOUT_MS)
    return tooltip.inner_text()


def js_number(value: float) -> str:
    """dom.js formatNumber for the values these runs have."""
    return f"{value:.5g}" if abs(value) >= 1e-3 else f"{value:.4e}".replace("e-0", "e-")


def color_of(run_id: str) -> str:
    """colors.js colorOf (FNV-1a into the palette), to pick runs of distinct colours."""
    source = (Path(__file__).parents[2] / "tracker_server/web/static/colors.js").read_text()
    palette = re.findall(r'"(#[0-9a-f]{6})"', source)
    value = 2166136261
    for char in run_id:
        value = ((value ^ ord(char)) * 16777619) & 0xFFFFFFFF
    return palette[value % len(palette)]


def distinct_colours(demo: Demo, preferred: list[str], count: int) -> list[str]:
    names: list[str] = []
    for name in preferred:
        if color_of(demo.runs[name]) not in {color_of(demo.runs[n]) for n in names}:
            names.append(name)
    return names[:count]


def test_scalars_lines_smoothing_log_and_x_axis(page: Page, demo: Demo) -> None:
    # Five runs (for the README's screenshot: of distinct colours), the lr=0.1 seed=0 one first.
    preferred = ["lr=0.1 seed=0", "lr=0.01 seed=0", "lr=1.0 seed=0", "lr=0.1 seed=1", "lr=1.0 seed=1"]
    names = distinct_colours(demo, preferred + [n for n in SWEEP if n not in preferred], 5)
    assert len(names) == 5
    open_view(page, scalars_url(demo, names))
    ids = {demo.runs[n] for n in names}
    # Sections by prefix, each with its charts; collapsing one keeps it in the URL.
    assert page.eval_on_selector_all("details.tag-group", "ds => ds.map(d => d.dataset.group)") == [
        "eval",
        "train",
    ]
    assert page.locator('details[data-group="train"] [data-tag="train/loss"]').count() == 1
    assert page.locator('details[data-group="eval"] [data-tag="eval/acc"]').count() == 1

    # One strong (smoothed) and one faint (raw) line per run, in the run's colour, named by the run.
    option = chart_option(page, '[data-tag="train/loss"]')
    smooth = series_by(option, "smooth:")
    raw = series_by(option, "raw:")
    assert {s["id"][7:] for s in smooth} == ids and {s["id"][4:] for s in raw} == ids
    assert len(smooth) == len(raw) == 5
    assert {s["name"] for s in smooth} == set(names)
    assert all(len(s["data"]) == demo.steps for s in smooth)

    # Smoothing: TensorBoard's formula, default 0.6; moving the slider changes the values.
    run = demo.runs["lr=0.1 seed=0"]
    series = next(s for s in smooth if s["id"] == f"smooth:{run}")
    raw_points = raw_values(series)
    expected = tensorboard_smoothing(raw_points, 0.6)
    assert [p[1] for p in series["data"]] == pytest.approx(expected, rel=1e-9)
    text = hover_tooltip(page, "train/loss", 100)
    assert all(name in text for name in names)
    save_screenshot(page, "scalars")
    before = series["data"][50][1]
    page.fill("#smoothing", "0.95")
    wait_chart(
        page,
        "train/loss",
        "option.series.find(s => s.id === 'smooth:' + arg).data[50][1] !== " + repr(before),
        run,
    )
    after = smoothed_of(page, "train/loss", run)
    assert [p[1] for p in after] == pytest.approx(tensorboard_smoothing(raw_points, 0.95), rel=1e-9)
    assert after[50][1] != pytest.approx(before)
    assert hash_params(page)["smoothing"] == ["0.95"]
    page.fill("#smoothing", "0")
    wait_chart(page, "train/loss", "!option.series.some(s => s.id.startsWith('raw:'))")
    assert [p[1] for p in smoothed_of(page, "train/loss", run)] == pytest.approx(raw_points)
    page.fill("#smoothing", "0.8")
    wait_chart(page, "train/loss", "option.series.some(s => s.id.startsWith('raw:'))")

    # Log scale.
    page.check("#log-scale")
    wait_chart(page, "train/loss", "option.yAxis[0].type === 'log'")
    assert chart_option(page, '[data-tag="eval/acc"]')["yAxis"][0]["type"] == "log"

    # X axis: relative time (seconds since the run's first point), then wall time (ms).
    page.click('#x-axis button[data-x="relative"]')
    wait_chart(page, "train/loss", "option.series.find(s => s.id === 'smooth:' + arg).data[0][0] === 0", run)
    data = smoothed_of(page, "train/loss", run)
    assert 0 < data[-1][0] < 600 and [p[0] for p in data] == sorted(p[0] for p in data)
    page.click('#x-axis button[data-x="wall"]')
    wait_chart(page, "train/loss", "option.xAxis[0].type === 'time'")
    assert smoothed_of(page, "train/loss", run)[0][0] > 1.5e12
    params = hash_params(page)
    assert params["x"] == ["wall"] and params["log"] == ["1"] and params["smoothing"] == ["0.8"]

    # A reload restores every option.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    option = chart_option(page, '[data-tag="train/loss"]')
    assert option["xAxis"][0]["type"] == "time" and option["yAxis"][0]["type"] == "log"
    assert page.input_value("#smoothing") == "0.8" and page.is_checked("#log-scale")
    page.click('#x-axis button[data-x="step"]')
    page.uncheck("#log-scale")
    wait_chart(page, "train/loss", "option.yAxis[0].type === 'value' && option.xAxis[0].type === 'value'")


def test_scalars_tooltip_and_nonfinite_points(page: Page, demo: Demo) -> None:
    names = ["lr=0.01 seed=0", "lr=0.1 seed=0", "lr=1.0 seed=0"]
    open_view(page, scalars_url(demo, names, "&smoothing=0.6"))
    text = hover_tooltip(page, "train/loss", 100)
    step = int(re.search(r"Step (\d+)", text).group(1))
    assert step == 100
    for name in names:
        data = smoothed_of(page, "train/loss", demo.runs[name])
        point = next(p for p in data if p[3] == step)
        assert name in text
        assert js_number(point[1]) in text and js_number(point[2]) in text

    # The diverged run: its NaN points (steps 150..199) are marked at the top edge, labelled once,
    # and its line stops; the other runs have no markers.
    option = chart_option(page, '[data-tag="train/loss"]')
    marks = series_by(option, "nan:")
    assert [s["id"] for s in marks] == [f"nan:{demo.runs['lr=1.0 seed=0']}"]
    points = marks[0]["data"]
    assert [p["value"][2] for p in points] == list(range(150, 200))
    assert all(p["value"][1] > 0.9 for p in points)
    assert [p["label"]["formatter"] for p in points if "label" in p] == ["NaN"]
    line = next(s for s in option["series"] if s["id"] == f"smooth:{demo.runs['lr=1.0 seed=0']}")["data"]
    assert {p[1] for p in line if p[3] >= 150} == {"-"}
    # Hovering there shows NaN for that run.
    text = hover_tooltip(page, "train/loss", 180)
    assert "NaN" in text


def test_scalars_zoom_refetches_the_step_range_and_keeps_it(page: Page, demo: Demo) -> None:
    names = ["lr=0.1 seed=0", "lr=1.0 seed=0"]
    open_view(page, scalars_url(demo, names))
    chart = page.locator('[data-tag="train/loss"]')
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    with page.expect_request(lambda r: "/api/scalars" in r.url and "start_step=" in r.url) as request:
        page.mouse.wheel(0, -600)
    query = parse_qs(urlparse(request.value.url).query)
    start, end = int(query["start_step"][0]), int(query["end_step"][0])
    assert 0 < start < end < 199
    assert query["max_points"] == ["1000"] and sorted(query["tag"]) == ["eval/acc", "train/loss"]
    page.wait_for_selector(f'[data-zoomed-range="{start},{end}"]')
    # The zoom stays after the new data arrives, and applies to every chart.
    for tag in ("train/loss", "eval/acc"):
        lo, hi = x_extent(page, tag)
        assert start - 1 <= lo and hi <= end + 1 and hi - lo < 199
    assert "zoom" in hash_params(page)

    # A reload restores the zoom (fetching the zoomed range again).
    with page.expect_request(lambda r: f"start_step={start}" in r.url):
        page.reload()
    page.wait_for_selector("body[data-ready=true]")
    lo, hi = x_extent(page, "train/loss")
    assert start - 1 <= lo and hi <= end + 1

    page.click("#reset-zoom")
    assert x_extent(page, "train/loss") == [0, 199]
    assert "zoom" not in hash_params(page)


def test_scalars_group_seeds_mean_and_band(page: Page, demo: Demo) -> None:
    open_view(page, scalars_url(demo, SWEEP, "&smoothing=0"))
    runs = {n: smoothed_of(page, "train/loss", demo.runs[n]) for n in SWEEP if not n.startswith("lr=1.0")}
    page.check("#group-seeds")
    wait_chart(page, "train/loss", "option.series.some(s => s.id.startsWith('mean:'))")
    option = chart_option(page, '[data-tag="train/loss"]')
    means = series_by(option, "mean:")
    bands = series_by(option, "band:")
    assert len(means) == 3 and len(bands) == 3 and not series_by(option, "smooth:")
    assert sorted(page.eval_on_selector_all("#legend .item", "ns => ns.map(n => n.textContent)")) == [
        "lr=0.01 (3 runs)",
        "lr=0.1 (3 runs)",
        "lr=1 (3 runs)",
    ]
    assert len({s["color"] for s in means}) == 3
    # The mean of the seeds at step 40, and the band is mean +- std.
    group = next(s for s in means if s["name"] == "lr=0.1 (3 runs)")
    values = [runs[f"lr=0.1 seed={seed}"][40][1] for seed in range(3)]
    mean = sum(values) / 3
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / 3)
    assert group["data"][40][1] == pytest.approx(mean) and group["data"][40][4] == pytest.approx(std)
    band = next(s for s in bands if s["id"] == "band:" + group["id"][5:])
    base = next(s for s in option["series"] if s["id"] == "bandbase:" + group["id"][5:])
    assert base["data"][40][1] == pytest.approx(mean - std) and band["data"][40][1] == pytest.approx(2 * std)
    # The diverged group is marked from step 150.
    diverged = next(s for s in means if s["name"] == "lr=1 (3 runs)")
    mark = next(s for s in option["series"] if s["id"] == "nan:" + diverged["id"][5:])
    assert mark["data"][0]["value"][2] == 150
    assert hash_params(page)["group"] == ["seed"]
    page.select_option("#band", "minmax")
    wait_chart(
        page,
        "train/loss",
        "option.series.find(s => s.id === arg).data[40][1] !== " + repr(2 * std),
        band["id"],
    )
    band = next(s for s in chart_option(page, '[data-tag="train/loss"]')["series"] if s["id"] == band["id"])
    assert band["data"][40][1] == pytest.approx(max(values) - min(values))
    text = hover_tooltip(page, "train/loss", 60)
    assert "lr=0.1 (3 runs)" in text and "n=3" in text


def test_hostile_names_stay_text(page: Page, demo: Demo) -> None:
    names = [XSS, "lr=0.1 seed=0"]
    ids = ",".join(demo.runs[n] for n in names)
    open_view(page, f"{demo.url}/#/p/demo/runs?runs={ids}")
    assert page.locator("#runs-table td.name a", has_text=XSS).count() == 1
    page.click("#open-scalars")
    page.wait_for_url("**/scalars?**")
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator(f"details.tag-group[data-group='{XSS}'] summary").inner_text().startswith(XSS)
    assert XSS in page.inner_text("#legend")
    chart = f'[data-tag="{XSS}"]'
    assert page.locator(chart).count() == 1
    text = hover_tooltip(page, XSS, 5)
    assert XSS in text
    text = hover_tooltip(page, "train/loss", 5)
    assert XSS in text
    page.check("#group-seeds")
    wait_chart(page, "train/loss", "option.series.some(s => s.id.startsWith('mean:'))")
    assert XSS in hover_tooltip(page, "train/loss", 5)
    assert page.locator("#app img").count() == 0
    assert page.evaluate("window.__xss") is None


def test_live_refresh_adds_points_and_tags_keeping_zoom_and_options(page: Page, demo: Demo) -> None:
    with tracker.init(project="live", name="running", hparams={"lr": 0.1}, server=demo.address) as run:
        for step in range(100):
            run.log({"train/loss": 1 / (step + 1)}, step=step)
        run.flush()
        open_view(page, f"{demo.url}/#/p/live/scalars?runs={run.id}&smoothing=0.3&log=1&zoom=10,50")
        page.wait_for_selector('[data-zoomed-range="10,50"]')
        assert x_extent(page, "train/loss") == [10, 50]
        for step in range(100, 150):
            run.log({"train/loss": 1 / (step + 1)}, step=step)
        run.log({"eval/acc": 0.5}, step=120)
        run.flush()
        # The view refreshes itself every few seconds while a selected run is running.
        wait_chart(
            page,
            "train/loss",
            "option.series.find(s => s.id === 'smooth:' + arg).data.length === 150",
            run.id,
        )
        page.wait_for_selector('[data-tag="eval/acc"]', timeout=TIMEOUT_MS)
        assert x_extent(page, "train/loss") == [10, 50]
        assert chart_option(page, '[data-tag="train/loss"]')["yAxis"][0]["type"] == "log"
        assert page.input_value("#smoothing") == "0.3"

// The scalars view: one chart per scalar tag, the tags grouped by their prefix before the first
// "/" (collapsible sections, as TensorBoard does), every selected run overlaid in its own colour.
//
// - Smoothing: TensorBoard's debiased exponential moving average; the smoothed line drawn strong,
//   the raw one faint.
// - Server-side downsampling: each series is requested with max_points; zooming (mouse wheel, or
//   drag a box) fetches the zoomed step range again at full budget, merged into the overview so
//   that zooming out still shows everything. The zoom is shared by all charts.
// - NaN and +-Inf points are drawn as triangles at the top (NaN, +Inf) or bottom (-Inf) edge,
//   labelled at the start of each non-finite stretch, never silently dropped.
// - Group by hyperparameters: runs whose hyperparameters are identical except `seed` become one
//   line (the mean of their smoothed values) in a band (+-1 std, or min-max).
// - Every option (smoothing, log scale, x axis, grouping, band, zoom, tag filter, collapsed
//   sections) is kept in the URL.
//
// Run names and tags are user input: they go into the page as text nodes, and into the charting
// library's HTML tooltip only through escapeHtml.

import { nums } from "../api.js";
import { el, escapeHtml, formatNumber } from "../dom.js";
import { seedNames } from "./common.js";

const MAX_POINTS = 1000;
// With many runs on one chart, fewer points each: 40 lines of 500 points (each bucket still keeps
// its extremes and non-finite points) draw twice as fast and look the same at chart width.
const MANY_RUNS = 20;
const MAX_POINTS_MANY = 500;
const ZOOM_DEBOUNCE_MS = 250;
const DEFAULT_SMOOTHING = 0.6;
const MAX_TOOLTIP_ROWS = 30;
const RUNS_PER_REQUEST = 150; // keeps the request line short
const SERIES_PER_REQUEST = 2000;
const X_MODES = [
  ["step", "Step"],
  ["relative", "Relative"],
  ["wall", "Wall"],
];
const NONFINITE_AXIS = 1; // the hidden [0, 1] y axis the non-finite markers are drawn on
// Groups get distinct colours by their order (a hash of the key could give two groups one colour).
const GROUP_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/** TensorBoard's smoothing (debiased EMA); non-finite values are passed through and skipped. */
export function smooth(values, weight) {
  if (weight <= 0) return values.slice();
  const first = values.find((v) => Number.isFinite(v));
  const constant = values.every((v) => v === first);
  let last = 0;
  let accumulated = 0;
  return values.map((value) => {
    if (constant || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    accumulated += 1;
    const debias = weight === 1 ? 1 : 1 - Math.pow(weight, accumulated);
    return last / debias;
  });
}

export function prefixOf(tag) {
  const i = tag.indexOf("/");
  return i < 0 ? tag : tag.slice(0, i);
}

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const s = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "";
  if (s < 60) return `${sign}${formatNumber(Math.round(s * 10) / 10)}s`;
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  if (s < 86400) return `${sign}${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${sign}${formatNumber(Math.round((s / 86400) * 10) / 10)}d`;
}

function formatWall(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function readOptions(params) {
  const smoothing = Number(params.get("smoothing") ?? DEFAULT_SMOOTHING);
  const zoom = (params.get("zoom") || "").split(",").map(Number);
  return {
    smoothing: Number.isFinite(smoothing) ? Math.min(0.999, Math.max(0, smoothing)) : DEFAULT_SMOOTHING,
    log: params.get("log") === "1",
    x: X_MODES.some(([m]) => m === params.get("x")) ? params.get("x") : "step",
    group: params.get("group") === "seed",
    band: params.get("band") === "minmax" ? "minmax" : "std",
    zoom: zoom.length === 2 && zoom.every(Number.isFinite) && zoom[0] < zoom[1] ? zoom : null,
    tags: params.get("tags") || "",
    collapsed: new Set((params.get("collapsed") || "").split(",").filter(Boolean)),
  };
}

/** Runs grouped by their hyperparameters without the seeds: [{key, label, runs}] in selection order. */
function groupRuns(ctx, ids) {
  const seeds = new Set(seedNames(ctx.hparamNames));
  const keyOf = (id) => {
    const hp = (ctx.run(id) || {}).hparams || {};
    return JSON.stringify(Object.keys(hp).filter((k) => !seeds.has(k)).sort().map((k) => [k, hp[k]]));
  };
  const groups = new Map();
  for (const id of ids) {
    const key = keyOf(id);
    if (!groups.has(key)) groups.set(key, { key, runs: [], hparams: Object.fromEntries(JSON.parse(key)) });
    groups.get(key).runs.push(id);
  }
  // Label each group by the hyperparameters that differ between the groups.
  const list = [...groups.values()];
  const names = [...new Set(list.flatMap((g) => Object.keys(g.hparams)))].sort();
  const differing = names.filter((n) => new Set(list.map((g) => JSON.stringify(g.hparams[n]))).size > 1);
  list.forEach((g, i) => {
    g.color = GROUP_COLORS[i % GROUP_COLORS.length];
  });
  for (const g of list) {
    const parts = differing.filter((n) => n in g.hparams).map((n) => `${n}=${g.hparams[n]}`);
    g.label = `${parts.join(" ") || "all runs"} (${g.runs.length} run${g.runs.length === 1 ? "" : "s"})`;
  }
  return list;
}

/** Linear interpolation of (steps, values) at `step` (nearest value next to a non-finite one). */
function valueAt(steps, values, step) {
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0 || step < steps[0] || step > steps[hi]) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid;
  }
  if (steps[lo] === step) return values[lo];
  if (steps[hi] === step) return values[hi];
  const a = values[lo];
  const b = values[hi];
  if (!Number.isFinite(a) || !Number.isFinite(b)) return step - steps[lo] <= steps[hi] - step ? a : b;
  return a + ((b - a) * (step - steps[lo])) / (steps[hi] - steps[lo]);
}

const finiteOr = (v) => (Number.isFinite(v) ? v : "-");

/** Triangles on the hidden [0, 1] axis for each non-finite value, the first of a stretch labelled. */
function nonfiniteSeries(id, name, color, xs, values, steps) {
  const data = [];
  let previous = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      previous = null;
      continue;
    }
    const kind = Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    const item = {
      value: [xs[i], kind === "-Inf" ? 0.03 : 0.97, steps[i]],
      symbol: "triangle",
      symbolRotate: kind === "-Inf" ? 0 : 180,
    };
    if (kind !== previous) item.label = { show: true, formatter: kind, position: kind === "-Inf" ? "top" : "bottom" };
    previous = kind;
    data.push(item);
  }
  if (!data.length) return null;
  return {
    id,
    name,
    type: "scatter",
    yAxisIndex: NONFINITE_AXIS,
    data,
    symbolSize: 7,
    itemStyle: { color, opacity: 0.85 },
    label: { color: "#b42318", fontSize: 10, fontWeight: 600 },
    z: 5,
    silent: true,
  };
}

export async function render(root, ctx) {
  const opts = readOptions(ctx.params);
  const hidden = new Set(); // run or group keys switched off in the legend
  let overview = new Map(); // `${run}\n${tag}` -> {steps, wall, values, total} over every step
  let detail = null; // the same, for the zoomed step range
  let detailRange = null; // [start_step, end_step] of `detail`
  let runStart = new Map(); // run -> first wall time (for the relative x axis)
  let tags = [];
  const charts = new Map(); // tag -> {chart, node, card}
  let zoomTimer = null;
  let fetchSerial = 0;
  let disposed = false;

  const selected = () => ctx.selected.filter((id) => ctx.run(id));

  function tagsOf(ids, runsById) {
    const found = new Set();
    for (const id of ids) for (const tag of Object.keys((runsById(id) || {}).metrics || {})) found.add(tag);
    return [...found].sort((a, b) => a.localeCompare(b));
  }

  function requests(ids, tagList, range) {
    const out = [];
    for (let r = 0; r < ids.length; r += RUNS_PER_REQUEST) {
      const runs = ids.slice(r, r + RUNS_PER_REQUEST);
      const perRequest = Math.max(1, Math.floor(SERIES_PER_REQUEST / runs.length));
      for (let t = 0; t < tagList.length; t += perRequest) {
        out.push(
          ctx.get("scalars", {
            run: runs,
            tag: tagList.slice(t, t + perRequest),
            max_points: ids.length > MANY_RUNS ? MAX_POINTS_MANY : MAX_POINTS,
            start_step: range ? range[0] : undefined,
            end_step: range ? range[1] : undefined,
          }),
        );
      }
    }
    return out;
  }

  async function fetchSeries(range) {
    const ids = selected();
    const found = new Map();
    if (!ids.length || !tags.length) return found;
    for (const answer of await Promise.all(requests(ids, tags, range))) {
      for (const s of answer.series) {
        found.set(`${s.run}\n${s.tag}`, { steps: s.steps, wall: nums(s.wall_times), values: nums(s.values), total: s.total_points });
      }
    }
    return found;
  }

  function computeStarts() {
    runStart = new Map();
    for (const [key, s] of overview) {
      const run = key.slice(0, key.indexOf("\n"));
      if (s.wall.length && !(runStart.get(run) <= s.wall[0])) runStart.set(run, s.wall[0]);
    }
  }

  /** The overview with the zoomed range replaced by its finer points. */
  function pointsOf(run, tag) {
    const key = `${run}\n${tag}`;
    const base = overview.get(key);
    const fine = detail && detail.get(key);
    if (!fine || !base) return base || fine;
    const [s, e] = detailRange;
    const out = { steps: [], wall: [], values: [], total: base.total };
    const push = (src, i) => {
      out.steps.push(src.steps[i]);
      out.wall.push(src.wall[i]);
      out.values.push(src.values[i]);
    };
    let i = 0;
    for (; i < base.steps.length && base.steps[i] < s; i++) push(base, i);
    for (let j = 0; j < fine.steps.length; j++) push(fine, j);
    while (i < base.steps.length && base.steps[i] <= e) i++;
    for (; i < base.steps.length; i++) push(base, i);
    return out;
  }

  function xsOf(run, points) {
    if (opts.x === "step") return points.steps;
    if (opts.x === "wall") return points.wall.map((w) => w * 1000);
    const start = runStart.has(run) ? runStart.get(run) : points.wall[0];
    return points.wall.map((w) => w - start);
  }

  /** The zoomed x range as a step range, over the overview's points. */
  function stepRange([a, b]) {
    if (opts.x === "step") return [Math.floor(a), Math.ceil(b)];
    let lo = Infinity;
    let hi = -Infinity;
    for (const [key, s] of overview) {
      const run = key.slice(0, key.indexOf("\n"));
      const xs = xsOf(run, s);
      for (let i = 0; i < xs.length; i++) {
        if (xs[i] >= a && xs[i] <= b) {
          lo = Math.min(lo, s.steps[Math.max(0, i - 1)]);
          hi = Math.max(hi, s.steps[Math.min(xs.length - 1, i + 1)]);
        }
      }
    }
    return lo <= hi ? [lo, hi] : null;
  }

  // ----- series -----

  function runSeries(tag) {
    const out = [];
    const faint = opts.smoothing > 0;
    for (const run of selected()) {
      if (hidden.has(run)) continue;
      const points = pointsOf(run, tag);
      if (!points || !points.steps.length) continue;
      const color = ctx.colorOf(run);
      const name = ctx.runName(run);
      const xs = xsOf(run, points);
      const smoothed = smooth(points.values, opts.smoothing);
      if (faint) {
        out.push({
          id: `raw:${run}`,
          name,
          type: "line",
          data: xs.map((x, i) => [x, finiteOr(points.values[i])]),
          showSymbol: false,
          silent: true,
          color,
          lineStyle: { width: 1, opacity: 0.28 },
          z: 1,
        });
      }
      out.push({
        id: `smooth:${run}`,
        name,
        type: "line",
        data: xs.map((x, i) => [x, finiteOr(smoothed[i]), points.values[i], points.steps[i]]),
        showSymbol: false,
        color,
        lineStyle: { width: 1.8 },
        emphasis: { disabled: true },
        z: 3,
      });
      const marks = nonfiniteSeries(`nan:${run}`, name, color, xs, points.values, points.steps);
      if (marks) out.push(marks);
    }
    return out;
  }

  function groupSeries(tag) {
    const out = [];
    for (const group of groupRuns(ctx, selected())) {
      if (hidden.has(group.key)) continue;
      const members = [];
      for (const run of group.runs) {
        const points = pointsOf(run, tag);
        if (points && points.steps.length) members.push({ run, points, smoothed: smooth(points.values, opts.smoothing) });
      }
      if (!members.length) continue;
      const steps = [...new Set(members.flatMap((m) => m.points.steps))].sort((a, b) => a - b);
      // x of a step: the first member that has it (steps line up across seeds of one sweep).
      const xOfStep = new Map();
      for (const m of members) {
        const xs = xsOf(m.run, m.points);
        m.points.steps.forEach((s, i) => {
          if (!xOfStep.has(s)) xOfStep.set(s, xs[i]);
        });
      }
      const color = group.color;
      const mean = [];
      const rawMean = [];
      const lower = [];
      const width = [];
      const marks = [];
      for (const step of steps) {
        const x = xOfStep.get(step);
        const smoothedAt = [];
        const rawAt = [];
        let nonfinite = null;
        for (const m of members) {
          const v = valueAt(m.points.steps, m.smoothed, step);
          const r = valueAt(m.points.steps, m.points.values, step);
          if (v === undefined) continue;
          if (Number.isFinite(v)) smoothedAt.push(v);
          if (Number.isFinite(r)) rawAt.push(r);
          else if (nonfinite === null || Number.isNaN(r)) nonfinite = r;
        }
        if (nonfinite !== null) marks.push([x, nonfinite, step]);
        if (!smoothedAt.length) {
          mean.push([x, "-", NaN, step, NaN, 0]);
          rawMean.push([x, "-"]);
          lower.push([x, "-"]);
          width.push([x, "-"]);
          continue;
        }
        const n = smoothedAt.length;
        const m = smoothedAt.reduce((a, b) => a + b, 0) / n;
        const std = Math.sqrt(smoothedAt.reduce((a, b) => a + (b - m) * (b - m), 0) / n);
        const rm = rawAt.length ? rawAt.reduce((a, b) => a + b, 0) / rawAt.length : NaN;
        let lo = opts.band === "minmax" ? Math.min(...smoothedAt) : m - std;
        const hi = opts.band === "minmax" ? Math.max(...smoothedAt) : m + std;
        if (opts.log && lo <= 0) lo = Math.min(m, hi) / 10; // a log axis has no room below zero
        mean.push([x, m, rm, step, std, n]);
        rawMean.push([x, finiteOr(rm)]);
        lower.push([x, lo]);
        width.push([x, hi - lo]);
      }
      const stack = `band:${group.key}`;
      out.push({
        id: `bandbase:${group.key}`,
        type: "line",
        data: lower,
        stack,
        showSymbol: false,
        silent: true,
        lineStyle: { opacity: 0 },
        color,
        z: 1,
      });
      out.push({
        id: `band:${group.key}`,
        name: group.label,
        type: "line",
        data: width,
        stack,
        showSymbol: false,
        silent: true,
        lineStyle: { opacity: 0 },
        areaStyle: { color, opacity: 0.16 },
        color,
        z: 1,
      });
      if (opts.smoothing > 0) {
        out.push({
          id: `rawmean:${group.key}`,
          name: group.label,
          type: "line",
          data: rawMean,
          showSymbol: false,
          silent: true,
          color,
          lineStyle: { width: 1, opacity: 0.28 },
          z: 2,
        });
      }
      out.push({
        id: `mean:${group.key}`,
        name: group.label,
        type: "line",
        data: mean,
        showSymbol: false,
        color,
        lineStyle: { width: 2 },
        emphasis: { disabled: true },
        z: 3,
      });
      const markSeries = nonfiniteSeries(
        `nan:${group.key}`,
        group.label,
        color,
        marks.map((p) => p[0]),
        marks.map((p) => p[1]),
        marks.map((p) => p[2]),
      );
      if (markSeries) out.push(markSeries);
    }
    return out;
  }

  function tooltipFormatter(params) {
    const rows = params.filter((p) => p.seriesId.startsWith("smooth:") || p.seriesId.startsWith("mean:"));
    if (!rows.length) return "";
    const x = rows[0].value[0];
    const head =
      opts.x === "step"
        ? `Step ${escapeHtml(formatNumber(x))}`
        : opts.x === "wall"
          ? escapeHtml(formatWall(x))
          : `${escapeHtml(formatDuration(x))} since start`;
    const value = (v) => (typeof v === "number" ? v : NaN);
    rows.sort((a, b) => {
      const va = value(a.value[1]);
      const vb = value(b.value[1]);
      return (Number.isNaN(va) ? 1 : 0) - (Number.isNaN(vb) ? 1 : 0) || vb - va;
    });
    const grouped = opts.group;
    const cells = rows.slice(0, MAX_TOOLTIP_ROWS).map((p) => {
      const [, shown, raw, step, std, n] = p.value;
      const smoothedText = formatNumber(typeof shown === "number" ? shown : raw);
      const extra = grouped ? `± ${formatNumber(std)} (n=${n})` : formatNumber(raw);
      return (
        `<tr><td><span class="tt-swatch" style="background:${p.color}"></span>${escapeHtml(p.seriesName)}</td>` +
        `<td class="tt-num"><b>${escapeHtml(smoothedText)}</b></td>` +
        `<td class="tt-num tt-muted">${escapeHtml(extra)}</td>` +
        `<td class="tt-num tt-muted">${escapeHtml(formatNumber(step))}</td></tr>`
      );
    });
    const more = rows.length > MAX_TOOLTIP_ROWS ? `<div class="tt-muted">… ${rows.length - MAX_TOOLTIP_ROWS} more</div>` : "";
    const second = grouped ? "mean ± std" : opts.smoothing > 0 ? "value" : "";
    const first = grouped ? (opts.smoothing > 0 ? "smoothed mean" : "mean") : opts.smoothing > 0 ? "smoothed" : "value";
    return (
      `<div class="tt-head">${head}</div><table class="tt"><thead><tr><th>${grouped ? "group" : "run"}</th>` +
      `<th>${first}</th><th>${grouped ? "" : second}</th><th>step</th></tr></thead><tbody>${cells.join("")}</tbody></table>${more}`
    );
  }

  function optionFor(tag) {
    const xAxis =
      opts.x === "wall"
        ? { type: "time", scale: true }
        : {
            type: "value",
            min: "dataMin",
            max: "dataMax",
            axisLabel: { formatter: opts.x === "relative" ? formatDuration : (v) => formatNumber(v) },
          };
    return {
      animation: false,
      grid: { left: 8, right: 34, top: 16, bottom: 24, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "line", snap: false, lineStyle: { color: "#98a2b3" } },
        confine: true,
        className: "chart-tooltip",
        transitionDuration: 0,
        backgroundColor: "rgba(255,255,255,0.97)",
        borderColor: "#d0d5dd",
        padding: [6, 8],
        textStyle: { fontSize: 12, color: "#1d2330" },
        extraCssText: "box-shadow: 0 4px 14px rgba(16,24,40,.12); max-width: 560px;",
        formatter: tooltipFormatter,
      },
      toolbox: {
        right: 4,
        top: 14,
        orient: "vertical",
        itemSize: 13,
        itemGap: 8,
        feature: { dataZoom: { yAxisIndex: "none", title: { zoom: "drag to zoom", back: "undo zoom" } } },
      },
      xAxis: {
        ...xAxis,
        axisLine: { lineStyle: { color: "#c4c9d2" } },
        splitLine: { show: true, lineStyle: { color: "#f0f1f4" } },
        axisLabel: { ...(xAxis.axisLabel || {}), color: "#667085", hideOverlap: true },
      },
      yAxis: [
        {
          type: opts.log ? "log" : "value",
          scale: true,
          axisLabel: { color: "#667085", formatter: (v) => formatNumber(v) },
          splitLine: { lineStyle: { color: "#eef0f3" } },
        },
        { type: "value", min: 0, max: 1, show: false },
      ],
      dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "none", zoomOnMouseWheel: true, moveOnMouseMove: false, moveOnMouseWheel: false }],
      series: opts.group ? groupSeries(tag) : runSeries(tag),
    };
  }

  function applyZoom(chart) {
    if (opts.zoom) chart.dispatchAction({ type: "dataZoom", dataZoomIndex: 0, startValue: opts.zoom[0], endValue: opts.zoom[1] }, { silent: true });
    else chart.dispatchAction({ type: "dataZoom", dataZoomIndex: 0, start: 0, end: 100 }, { silent: true });
  }

  function draw(tag) {
    const entry = charts.get(tag);
    if (!entry || !entry.chart) return;
    // The whole option each time (a merge would leave holes where series went away); the zoom
    // and the drag-to-zoom cursor are put back after it.
    entry.chart.setOption(optionFor(tag), { notMerge: true });
    entry.chart.dispatchAction({ type: "takeGlobalCursor", key: "dataZoomSelect", dataZoomSelectActive: true });
    applyZoom(entry.chart);
  }

  function drawAll() {
    for (const tag of charts.keys()) draw(tag);
  }

  // ----- zoom -----

  function currentRange(chart) {
    const axis = chart.getModel().getComponent("xAxis", 0).axis;
    return axis.scale.getExtent();
  }

  function fullExtent() {
    let lo = Infinity;
    let hi = -Infinity;
    for (const [key, s] of overview) {
      const xs = xsOf(key.slice(0, key.indexOf("\n")), s);
      if (xs.length) {
        lo = Math.min(lo, xs[0]);
        hi = Math.max(hi, xs[xs.length - 1]);
      }
    }
    return [lo, hi];
  }

  function onZoom(source) {
    const [a, b] = currentRange(source);
    const [lo, hi] = fullExtent();
    const whole = a <= lo && b >= hi;
    opts.zoom = whole ? null : [a, b];
    ctx.setParams({ zoom: opts.zoom ? opts.zoom.map((v) => +v.toPrecision(8)).join(",") : null });
    for (const [, entry] of charts) if (entry.chart && entry.chart !== source) applyZoom(entry.chart);
    clearTimeout(zoomTimer);
    zoomTimer = setTimeout(refetchZoom, ZOOM_DEBOUNCE_MS);
  }

  async function refetchZoom() {
    const serial = ++fetchSerial;
    const range = opts.zoom ? stepRange(opts.zoom) : null;
    const fine = range ? await fetchSeries(range) : null;
    if (disposed || serial !== fetchSerial) return;
    detail = fine;
    detailRange = range;
    drawAll();
    root.dataset.zoomedRange = range ? range.join(",") : "";
  }

  function resetZoom() {
    opts.zoom = null;
    ctx.setParams({ zoom: null });
    clearTimeout(zoomTimer);
    fetchSerial++;
    detail = null;
    detailRange = null;
    drawAll();
    root.dataset.zoomedRange = "";
  }

  // ----- the page -----

  const smoothing = el("input", { type: "range", id: "smoothing", min: 0, max: 0.99, step: 0.01, value: opts.smoothing, "aria-label": "smoothing" });
  const smoothingValue = el("span", { id: "smoothing-value" }, opts.smoothing.toFixed(2));
  const log = el("input", { type: "checkbox", id: "log-scale" });
  log.checked = opts.log;
  const group = el("input", { type: "checkbox", id: "group-seeds" });
  group.checked = opts.group;
  const band = el("select", { id: "band", "aria-label": "band" }, el("option", { value: "std" }, "± std"), el("option", { value: "minmax" }, "min–max"));
  band.value = opts.band;
  band.disabled = !opts.group;
  const xButtons = X_MODES.map(([mode, label]) => el("button", { type: "button", dataset: { x: mode }, class: mode === opts.x ? "active" : "" }, label));
  const xMode = el("span", { class: "segmented", id: "x-axis", role: "group", "aria-label": "x axis" }, xButtons);
  const tagFilter = el("input", { type: "search", id: "tag-filter", placeholder: "filter tags (regex)", value: opts.tags, spellcheck: "false" });
  const reset = el("button", { type: "button", id: "reset-zoom", title: "or double-click a chart" }, "Reset zoom");
  const toolbar = el(
    "div",
    { class: "toolbar scalars-toolbar" },
    el("label", { for: "smoothing" }, "Smoothing", smoothing, smoothingValue),
    el("span", { class: "group" }, "X axis", xMode),
    el("label", {}, log, "Log scale"),
    el("label", { title: "runs with the same hyperparameters except seed as one line" }, group, "Group seeds"),
    band,
    tagFilter,
    el("span", { class: "spacer" }),
    el("span", { class: "hint" }, "wheel or drag to zoom"),
    reset,
  );
  const legend = el("div", { class: "legend", id: "legend" });
  const body = el("div", { class: "tag-groups" });
  root.append(toolbar, legend, body);

  function drawLegend() {
    legend.replaceChildren();
    const entries = opts.group
      ? groupRuns(ctx, selected()).map((g) => [g.key, g.label, g.color])
      : selected().map((id) => [id, ctx.runName(id), ctx.colorOf(id)]);
    for (const [key, label, color] of entries) {
      const item = el(
        "span",
        { class: `item${hidden.has(key) ? " off" : ""}`, dataset: { key }, title: "click to hide or show" },
        el("span", { class: "swatch", style: `background:${color}` }),
        label,
      );
      legend.append(item);
    }
  }

  legend.addEventListener("click", (event) => {
    const item = event.target.closest(".item");
    if (!item) return;
    const key = item.dataset.key;
    if (hidden.has(key)) hidden.delete(key);
    else hidden.add(key);
    item.classList.toggle("off", hidden.has(key));
    drawAll();
  });

  const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const chart = echarts.getInstanceByDom(entry.target);
      if (chart) chart.resize();
    }
  });

  function makeChart(tag) {
    const entry = charts.get(tag);
    if (entry.chart) return;
    entry.chart = echarts.init(entry.node, null, { renderer: "canvas" });
    entry.chart.on("datazoom", () => onZoom(entry.chart));
    entry.chart.getZr().on("dblclick", resetZoom);
    resizer.observe(entry.node);
    draw(tag);
  }

  function tagMatcher() {
    const text = opts.tags.trim();
    if (!text) return () => true;
    try {
      const re = new RegExp(text, "i");
      return (tag) => re.test(tag);
    } catch (_) {
      const needle = text.toLowerCase();
      return (tag) => tag.toLowerCase().includes(needle);
    }
  }

  function buildSections() {
    for (const [, entry] of charts) if (entry.chart) entry.chart.dispose();
    charts.clear();
    body.replaceChildren();
    if (!selected().length) {
      body.append(el("p", { class: "empty" }, "No runs selected: pick some in the Runs tab."));
      return;
    }
    if (!tags.length) {
      body.append(el("p", { class: "empty" }, "The selected runs have no scalars yet."));
      return;
    }
    const byPrefix = new Map();
    for (const tag of tags) {
      const prefix = prefixOf(tag);
      if (!byPrefix.has(prefix)) byPrefix.set(prefix, []);
      byPrefix.get(prefix).push(tag);
    }
    const matches = tagMatcher();
    for (const [prefix, list] of byPrefix) {
      const grid = el("div", { class: "charts" });
      const section = el(
        "details",
        { class: "tag-group", dataset: { group: prefix } },
        el("summary", {}, prefix, el("span", { class: "count" }, String(list.length))),
        grid,
      );
      section.open = !opts.collapsed.has(prefix);
      for (const tag of list) {
        const node = el("div", { class: "chart", dataset: { tag } });
        const card = el("div", { class: "chart-card" }, el("h3", {}, tag), node);
        card.hidden = !matches(tag);
        grid.append(card);
        charts.set(tag, { node, card, section, chart: null });
      }
      section.hidden = list.every((tag) => charts.get(tag).card.hidden);
      section.addEventListener("toggle", () => {
        if (section.open) opts.collapsed.delete(prefix);
        else opts.collapsed.add(prefix);
        ctx.setParams({ collapsed: [...opts.collapsed].join(",") });
        if (section.open) for (const tag of list) if (!charts.get(tag).card.hidden) makeChart(tag);
      });
      body.append(section);
    }
    for (const [tag, entry] of charts) if (entry.section.open && !entry.card.hidden) makeChart(tag);
  }

  // Controls.
  let frame = 0;
  smoothing.addEventListener("input", () => {
    opts.smoothing = Number(smoothing.value);
    smoothingValue.textContent = opts.smoothing.toFixed(2);
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => drawAll());
  });
  smoothing.addEventListener("change", () => ctx.setParams({ smoothing: opts.smoothing === DEFAULT_SMOOTHING ? null : opts.smoothing }));
  log.addEventListener("change", () => {
    opts.log = log.checked;
    ctx.setParams({ log: opts.log ? 1 : null });
    drawAll();
  });
  group.addEventListener("change", () => {
    opts.group = group.checked;
    band.disabled = !opts.group;
    ctx.setParams({ group: opts.group ? "seed" : null });
    hidden.clear();
    drawLegend();
    drawAll();
  });
  band.addEventListener("change", () => {
    opts.band = band.value;
    ctx.setParams({ band: opts.band === "std" ? null : opts.band });
    drawAll();
  });
  xMode.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-x]");
    if (!button || button.dataset.x === opts.x) return;
    opts.x = button.dataset.x;
    for (const b of xButtons) b.classList.toggle("active", b === button);
    // A zoom is a range of the old axis: start over.
    opts.zoom = null;
    detail = null;
    detailRange = null;
    fetchSerial++;
    ctx.setParams({ x: opts.x === "step" ? null : opts.x, zoom: null });
    drawAll();
  });
  tagFilter.addEventListener("input", () => {
    opts.tags = tagFilter.value;
    ctx.setParams({ tags: opts.tags.trim() });
    const matches = tagMatcher();
    for (const [tag, entry] of charts) {
      entry.card.hidden = !matches(tag);
      if (!entry.card.hidden && entry.section.open) makeChart(tag);
    }
    for (const section of body.querySelectorAll("details.tag-group")) {
      section.hidden = ![...charts.values()].some((e) => e.section === section && !e.card.hidden);
    }
  });
  reset.addEventListener("click", resetZoom);

  // First draw.
  tags = tagsOf(selected(), ctx.run);
  overview = await fetchSeries(null);
  computeStarts();
  if (opts.zoom) {
    detailRange = stepRange(opts.zoom);
    detail = detailRange ? await fetchSeries(detailRange) : null;
  }
  drawLegend();
  buildSections();
  root.dataset.zoomedRange = detailRange ? detailRange.join(",") : "";

  return {
    /** Live: new points and new tags, keeping options and zoom. */
    async refresh() {
      const table = await ctx.get(`projects/${encodeURIComponent(ctx.project)}/runs`);
      const byId = new Map(table.runs.map((r) => [r.id, r]));
      const fresh = tagsOf(selected(), (id) => byId.get(id));
      const serial = ++fetchSerial;
      const newTags = fresh.join("\n") !== tags.join("\n");
      tags = fresh;
      const [all, fine] = await Promise.all([fetchSeries(null), detailRange ? fetchSeries(detailRange) : null]);
      if (disposed || serial !== fetchSerial) return;
      overview = all;
      detail = fine;
      computeStarts();
      if (newTags) buildSections();
      else drawAll();
    },
    dispose() {
      disposed = true;
      clearTimeout(zoomTimer);
      cancelAnimationFrame(frame);
      resizer.disconnect();
      for (const [, entry] of charts) if (entry.chart) entry.chart.dispose();
      charts.clear();
    },
  };
}

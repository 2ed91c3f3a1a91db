// The Histograms and Distributions views (TensorBoard's), one chart per selected run x histogram
// tag, grouped by tag.
//
// Histograms, offset mode: a ridgeline, one filled curve per logged step stacked with an offset,
// the oldest at the back (top, lighter) and the newest in front (bottom, darker); overlay mode: every
// step on the same axes. Distributions: per step, the bands between symmetric percentiles of the
// values (min-max, +-1.5 sigma, +-1 sigma, +-0.5 sigma of a normal distribution, as basis points)
// and the median line.
//
// URL options: show=histograms|distributions, mode=offset|overlay, bins (buckets per histogram).

import { nums } from "../api.js";
import { clear, el, escapeHtml, formatNumber } from "../dom.js";
import { finite, layoutCards, pairKey, samePairs, tagged } from "./common.js";

const MODES = ["offset", "overlay"];
const BINS = [20, 30, 50, 100];
// Basis-point indices (into the API's 9 values) of each band, outermost first, and its name.
const BANDS = [
  [0, 8, "min–max"],
  [1, 7, "±1.5σ"],
  [2, 6, "±1σ"],
  [3, 5, "±0.5σ"],
];
const BAND_OPACITY = [0.15, 0.25, 0.4, 0.55];
const PERCENT_NAMES = ["min", "6.68%", "15.87%", "30.85%", "median", "69.15%", "84.13%", "93.32%", "max"];

/** A colour between white (t=0) and `hex` (t=1). */
export function tint(hex, t) {
  const n = parseInt(hex.slice(1), 16);
  const channel = (shift) => Math.round(255 + (((n >> shift) & 255) - 255) * t);
  return `rgb(${channel(16)},${channel(8)},${channel(0)})`;
}

function plot(value) {
  return finite(value) ? value : "-";
}

/** Each histogram's buckets as [center, count] (limits are right edges, as in TensorBoard). */
function buckets(h) {
  const limits = nums(h.limits);
  const counts = nums(h.counts);
  const out = [];
  for (let i = 0; i < limits.length; i++) {
    const right = limits[i];
    const left = i > 0 ? limits[i - 1] : limits.length > 1 ? 2 * limits[0] - limits[1] : right - 1;
    const center = finite(left) && finite(right) ? (left + right) / 2 : finite(right) ? right : left;
    if (finite(center)) out.push([center, finite(counts[i]) ? counts[i] : 0]);
  }
  return out;
}

export function histogramOption(histograms, color, mode) {
  const n = histograms.length;
  const all = histograms.map(buckets);
  const maxCount = Math.max(1e-12, ...all.flatMap((b) => b.map((p) => p[1])));
  const offset = mode === "offset" ? (n > 1 ? maxCount * Math.min(0.6, 2.4 / (n - 1)) : 0) : 0;
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  const series = histograms.map((h, i) => {
    const t = n > 1 ? i / (n - 1) : 1; // 0: the oldest step, 1: the newest
    const base = mode === "offset" ? (n - 1 - i) * offset : 0;
    const labelled = mode === "offset" && ((n - 1 - i) % labelEvery === 0 || i === 0);
    return {
      type: "line",
      name: `step ${h.step}`,
      id: `step-${h.step}`,
      step: h.step,
      showSymbol: false,
      smooth: false,
      z: 2 + i,
      data: all[i].map(([x, count]) => [x, base + count, count]),
      lineStyle: { color: tint(color, 0.35 + 0.65 * t), width: mode === "offset" ? 1.2 : 1.5 },
      itemStyle: { color: tint(color, 0.35 + 0.65 * t) },
      areaStyle: mode === "offset" ? { color: tint(color, 0.12 + 0.45 * t), opacity: 1, origin: base } : undefined,
      endLabel: labelled ? { show: true, formatter: `${h.step}`, color: "#555", fontSize: 10, distance: 6 } : undefined,
      emphasis: { disabled: true },
    };
  });
  return {
    animation: false,
    grid: { left: mode === "offset" ? 16 : 50, right: mode === "offset" ? 46 : 20, top: 14, bottom: 30 },
    tooltip: {
      trigger: "axis",
      confine: true,
      formatter: (params) => {
        if (!params.length) return "";
        const shown = params.slice(-10).reverse();
        const lines = shown.map(
          (p) => `${escapeHtml(p.seriesName)}: <b>${escapeHtml(formatNumber(Number(p.value[2].toPrecision(4))))}</b>`,
        );
        const more = params.length > shown.length ? `<br>… ${params.length - shown.length} older steps` : "";
        return `value ≈ ${escapeHtml(formatNumber(Number(params[0].value[0].toPrecision(4))))}<br>${lines.join("<br>")}${more}`;
      },
    },
    xAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => formatNumber(v) }, splitLine: { show: false } },
    yAxis:
      mode === "offset"
        ? { type: "value", show: false, min: 0, max: (n - 1) * offset + maxCount * 1.05 }
        : { type: "value", name: "count", axisLine: { onZero: false }, axisLabel: { formatter: (v) => formatNumber(v) } },
    series,
  };
}

export function distributionOption(found, color) {
  const steps = found.steps;
  const values = found.values.map(nums);
  const series = [];
  BANDS.forEach(([lo, hi, name], k) => {
    series.push({
      type: "line",
      name: `${name} (lower)`,
      stack: `band${k}`,
      stackStrategy: "all",
      data: steps.map((s, i) => [s, plot(values[i][lo])]),
      showSymbol: false,
      lineStyle: { opacity: 0 },
      silent: true,
      emphasis: { disabled: true },
      tooltip: { show: false },
    });
    series.push({
      type: "line",
      name,
      stack: `band${k}`,
      stackStrategy: "all",
      data: steps.map((s, i) => [s, plot(values[i][hi] - values[i][lo])]),
      showSymbol: false,
      lineStyle: { opacity: 0 },
      areaStyle: { color, opacity: BAND_OPACITY[k] },
      silent: true,
      emphasis: { disabled: true },
    });
  });
  series.push({
    type: "line",
    name: "median",
    data: steps.map((s, i) => [s, plot(values[i][4])]),
    showSymbol: steps.length === 1,
    lineStyle: { color, width: 2 },
    itemStyle: { color },
    emphasis: { disabled: true },
  });
  return {
    animation: false,
    grid: { left: 56, right: 20, top: 14, bottom: 40 },
    tooltip: {
      trigger: "axis",
      confine: true,
      formatter: (params) => {
        const i = params.length ? params[0].dataIndex : -1;
        if (i < 0 || !values[i]) return "";
        const rows = values[i]
          .map((v, j) => `${PERCENT_NAMES[j]}: <b>${escapeHtml(formatNumber(finite(v) ? Number(v.toPrecision(5)) : v))}</b>`)
          .reverse();
        return `step ${escapeHtml(String(steps[i]))}<br>${rows.join("<br>")}`;
      },
    },
    xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 24, scale: true, splitLine: { show: false } },
    yAxis: { type: "value", scale: true, axisLabel: { formatter: (v) => formatNumber(v) } },
    series,
  };
}

export async function render(root, ctx) {
  const state = {
    show: ctx.params.get("show") === "distributions" ? "distributions" : "histograms",
    mode: MODES.includes(ctx.params.get("mode")) ? ctx.params.get("mode") : "offset",
    bins: BINS.includes(Number(ctx.params.get("bins"))) ? Number(ctx.params.get("bins")) : 30,
  };
  const charts = new Map(); // "run\0tag" -> echarts instance
  let pairs = [];
  const controls = el("div", { class: "controls" });
  const body = el("div", { class: "hist-body" });
  root.append(controls, body);

  function segmented(id, options, value, onpick) {
    return el(
      "div",
      { class: "segmented", id, role: "group" },
      options.map(([v, label]) =>
        el("button", { type: "button", dataset: { value: v }, "aria-pressed": String(v === value), onclick: () => onpick(v) }, label),
      ),
    );
  }

  function drawControls() {
    clear(controls);
    controls.append(
      segmented(
        "hist-show",
        [
          ["histograms", "Histograms"],
          ["distributions", "Distributions"],
        ],
        state.show,
        async (v) => {
          if (v === state.show) return;
          state.show = v;
          ctx.setParams({ show: v === "histograms" ? null : v });
          await redraw(true);
        },
      ),
    );
    if (state.show === "histograms") {
      const bins = el(
        "select",
        {
          id: "hist-bins",
          onchange: async (e) => {
            state.bins = Number(e.target.value);
            ctx.setParams({ bins: state.bins === 30 ? null : state.bins });
            await redraw(false);
          },
        },
        BINS.map((b) => el("option", { value: b, selected: b === state.bins }, String(b))),
      );
      controls.append(
        el("span", {}, "Mode "),
        segmented(
          "hist-mode",
          [
            ["offset", "Offset"],
            ["overlay", "Overlay"],
          ],
          state.mode,
          async (v) => {
            if (v === state.mode) return;
            state.mode = v;
            ctx.setParams({ mode: v === "offset" ? null : v });
            await redraw(false);
          },
        ),
        el("label", {}, "Buckets ", bins),
      );
    }
  }

  async function fetchOne({ run, tag }) {
    const path = `runs/${encodeURIComponent(run)}/${state.show}`;
    return ctx.get(path, state.show === "histograms" ? { tag, bins: state.bins } : { tag });
  }

  function option(pair, found) {
    const color = ctx.colorOf(pair.run);
    return state.show === "histograms" ? histogramOption(found.histograms, color, state.mode) : distributionOption(found, color);
  }

  function disposeCharts() {
    for (const chart of charts.values()) chart.dispose();
    charts.clear();
  }

  /** Draw every chart; `rebuild` remakes the cards (the run x tag pairs or the kind changed). */
  async function redraw(rebuild) {
    const found = await tagged(ctx, "histogram");
    if (!samePairs(found, pairs)) rebuild = true;
    pairs = found;
    const data = await Promise.all(pairs.map(fetchOne));
    drawControls();
    if (rebuild) {
      disposeCharts();
      const nodes = new Map();
      layoutCards(body, ctx, pairs, "histograms", (pair) => {
        const node = el("div", {
          class: `chart ${state.show === "histograms" ? "hist-chart" : "dist-chart"}`,
          dataset: { chart: state.show === "histograms" ? "histogram" : "distribution", run: pair.run, tag: pair.tag },
        });
        nodes.set(pairKey(pair), node);
        return node;
      });
      for (const [key, node] of nodes) charts.set(key, echarts.init(node)); // in the page: sized
    }
    pairs.forEach((pair, i) => {
      const chart = charts.get(pairKey(pair));
      const drawn = state.show === "histograms" ? data[i].histograms.length : data[i].steps.length;
      if (chart) chart.setOption(drawn ? option(pair, data[i]) : { title: { text: "no data yet", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 12 } } }, { notMerge: true });
    });
  }

  await redraw(true);
  const onResize = () => charts.forEach((chart) => chart.resize());
  window.addEventListener("resize", onResize);
  return {
    refresh: () => redraw(false),
    dispose() {
      window.removeEventListener("resize", onResize);
      disposeCharts();
    },
  };
}

// The HParams view (TensorBoard's HParams dashboard): every run (or group of runs with identical
// hyperparameters) as a row of a sortable table, as a line of a parallel-coordinates chart with one
// axis per hyperparameter and per metric (brush any axis to filter; colour by a metric; log scale
// per numeric axis; categorical axes for strings and booleans), and as a point of a scatter plot of
// a metric against a hyperparameter. Clicking a line, a point or a run name opens its curves.
//
// URL options: metric_value (last|min|max), group=1 and aggregate, color (a metric, or "none"),
// log (axis names, comma-separated, each URI-encoded), x and y (the scatter's hparam and metric).

import { num } from "../api.js";
import { clear, el, escapeHtml, formatNumber } from "../dom.js";
import { finite, seedNames } from "./common.js";

const METRIC_VALUES = ["last", "min", "max"];
const AGGREGATES = ["mean", "median", "min", "max", "std"];
const MISSING = "(none)";
const COLD_TO_HOT = ["#313695", "#4575b4", "#74add1", "#abd9e9", "#fee090", "#fdae61", "#f46d43", "#d73027"];

function splitList(value) {
  return (value || "").split(",").filter(Boolean).map(decodeURIComponent);
}

function joinList(values) {
  return [...values].map(encodeURIComponent).join(",");
}

/** node.append() for el()'s children: arrays flattened, null and false left out. */
function append(node, ...children) {
  node.append(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
}

/** A hyperparameter's value for display and plotting: numbers stay numbers ("NaN" and the
 * infinities become numbers for numeric hparams), strings and booleans are their text. */
function hpValue(value, categorical) {
  if (value === undefined || value === null) return null;
  if (!categorical && typeof value === "string" && ["NaN", "Infinity", "-Infinity"].includes(value)) return Number(value);
  return categorical ? String(value) : value;
}

/** The brushes kept in the URL: {"axis name": [[low, high], ...]}; anything else is ignored. */
function readBrushes(text) {
  const brushes = new Map();
  try {
    for (const [name, intervals] of Object.entries(JSON.parse(text || "{}"))) {
      const valid = Array.isArray(intervals) && intervals.every((x) => Array.isArray(x) && x.length === 2 && x.every(Number.isFinite));
      if (valid && intervals.length) brushes.set(name, intervals);
    }
  } catch (_) {
    /* a hand-edited URL: no brushes */
  }
  return brushes;
}

export async function render(root, ctx) {
  const project = encodeURIComponent(ctx.project);
  const p = ctx.params;
  const state = {
    metricValue: METRIC_VALUES.includes(p.get("metric_value")) ? p.get("metric_value") : "last",
    grouped: p.get("group") === "1",
    // Grouping leaves seed-like hparams out by default: runs differing only by seed are trials.
    keepSeeds: p.get("seeds") === "keep",
    aggregate: AGGREGATES.includes(p.get("aggregate")) ? p.get("aggregate") : "mean",
    color: p.get("color"),
    log: new Set(splitList(p.get("log"))),
    x: p.get("x"),
    y: p.get("y"),
    sort: { key: null, dir: 1 },
    brushes: readBrushes(p.get("brush")), // axis name -> intervals; in the URL, put back on redraw
    active: null, // Set of row indices left by the brushes, or null (no brush)
  };
  let experiment = null;
  let rows = [];
  let dims = [];
  let parallel = null;
  let scatter = null;
  let restoring = false; // while the brushes are put back after a redraw

  const controls = el("div", { class: "hp-controls controls" });
  const logBox = el("div", { class: "hp-log", "aria-label": "log scale" });
  const parallelNode = el("div", { class: "chart hp-parallel", dataset: { chart: "parallel" } });
  const summary = el("div", { class: "hp-summary", id: "hp-summary", "aria-live": "polite" });
  const scatterControls = el("div", { class: "controls hp-scatter-controls" });
  const scatterNode = el("div", { class: "chart hp-scatter", dataset: { chart: "scatter" } });
  const scatterNote = el("p", { class: "hp-note" });
  const tableBox = el("div", { class: "hp-table-box" });
  root.append(
    controls,
    el("div", { class: "card" }, logBox, parallelNode, summary),
    el(
      "div",
      { class: "hp-bottom" },
      el("div", { class: "card hp-scatter-card" }, scatterControls, scatterNode, scatterNote),
      el("div", { class: "card hp-table-card" }, tableBox),
    ),
  );

  const seeds = seedNames(ctx.hparamNames);
  const ignored = () => (state.grouped && !state.keepSeeds ? seeds : []);

  async function load() {
    const [exp, groups] = await Promise.all([
      ctx.get(`projects/${project}/experiment`),
      ctx.get(`projects/${project}/groups`, {
        grouped: state.grouped,
        metric_value: state.metricValue,
        aggregate: state.aggregate,
        ignore: ignored(),
      }),
    ]);
    experiment = exp;
    rows = groups.groups.map((g, index) => ({
      index,
      ids: g.runs.map((r) => r.id),
      name: g.runs.length === 1 ? g.runs[0].name : `${g.runs[0].name} +${g.runs.length - 1}`,
      runs: g.runs,
      hparams: g.hparams,
      metrics: Object.fromEntries(Object.entries(g.metrics).map(([k, v]) => [k, num(v)])),
    }));
    dims = [
      ...experiment.hparams.filter((h) => !ignored().includes(h.name)).map((h) => {
        const categorical = h.type !== "number";
        const values = rows.map((r) => r.hparams[h.name]);
        const categories = categorical
          ? [...new Set([...((h.domain && h.domain.values) || []), ...values.filter((v) => v !== undefined && v !== null)].map(String))]
          : null;
        if (categorical && values.some((v) => v === undefined || v === null)) categories.push(MISSING);
        return { kind: "hparam", name: h.name, categorical, categories, values };
      }),
      ...experiment.metrics.map((m) => ({
        kind: "metric",
        name: m.tag,
        categorical: false,
        values: rows.map((r) => r.metrics[m.tag]),
      })),
    ];
    for (const d of dims) {
      const numbers = d.categorical ? [] : d.values.map((v) => hpValue(v, false)).filter(finite);
      d.min = numbers.length ? Math.min(...numbers) : null;
      d.max = numbers.length ? Math.max(...numbers) : null;
      d.canLog = !d.categorical && numbers.length > 0 && d.min > 0;
    }
  }

  const metricDims = () => dims.filter((d) => d.kind === "metric");
  const hparamDims = () => dims.filter((d) => d.kind === "hparam");
  const dimNamed = (kind, name) => dims.find((d) => d.kind === kind && d.name === name);
  const isLog = (d) => d.canLog && state.log.has(d.name);

  function colorDim() {
    if (state.color === "none") return null;
    const chosen = state.color !== null && dimNamed("metric", state.color);
    if (chosen) return chosen;
    // By default the metric most runs have (ties: the first by name).
    return defaultMetric();
  }

  /** The metric most rows have a finite value of (ties: the first by name). */
  function defaultMetric() {
    const counts = metricDims().map((d) => [d, d.values.filter(finite).length]);
    counts.sort((a, b) => b[1] - a[1]);
    return counts.length && counts[0][1] > 0 ? counts[0][0] : null;
  }

  function cell(d, row) {
    const value = d.kind === "hparam" ? row.hparams[d.name] : row.metrics[d.name];
    if (d.categorical) return value === undefined || value === null ? MISSING : String(value);
    const n = d.kind === "hparam" ? hpValue(value, false) : value;
    return finite(n) && (!isLog(d) || n > 0) ? n : "-";
  }

  function open(row) {
    ctx.go("scalars", { runs: row.ids.join(",") });
  }

  function runCount(list) {
    return list.reduce((total, row) => total + row.ids.length, 0);
  }

  // ---- controls ----
  function select(label, id, options, value, onchange) {
    const node = el(
      "select",
      { id, onchange: (e) => onchange(e.target.value) },
      options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)),
    );
    return el("label", {}, `${label} `, node);
  }

  function drawControls() {
    clear(controls);
    const colored = colorDim();
    append(
      controls,
      select("Metric value", "hp-metric-value", METRIC_VALUES.map((v) => [v, v]), state.metricValue, async (v) => {
        state.metricValue = v;
        ctx.setParams({ metric_value: v === "last" ? null : v });
        await reload();
      }),
      el(
        "label",
        {},
        el("input", {
          type: "checkbox",
          id: "hp-group",
          checked: state.grouped,
          onchange: async (e) => {
            state.grouped = e.target.checked;
            ctx.setParams({ group: state.grouped ? "1" : null });
            state.brushes.clear();
            await reload();
          },
        }),
        " Group runs with identical hparams",
      ),
      state.grouped && seeds.length
        ? el(
            "label",
            {},
            el("input", {
              type: "checkbox",
              id: "hp-ignore-seeds",
              checked: !state.keepSeeds,
              onchange: async (e) => {
                state.keepSeeds = !e.target.checked;
                ctx.setParams({ seeds: state.keepSeeds ? "keep" : null });
                state.brushes.clear();
                await reload();
              },
            }),
            ` except ${seeds.join(", ")}`,
          )
        : null,
      state.grouped
        ? select("Aggregate", "hp-aggregate", AGGREGATES.map((v) => [v, v]), state.aggregate, async (v) => {
            state.aggregate = v;
            ctx.setParams({ aggregate: v === "mean" ? null : v });
            await reload();
          })
        : null,
      select(
        "Colour by",
        "hp-color",
        [["none", "run colour"], ...metricDims().map((d) => [d.name, d.name])],
        colored ? colored.name : "none",
        (v) => {
          state.color = v;
          ctx.setParams({ color: v });
          drawParallel();
        },
      ),
    );
    clear(logBox);
    const loggable = dims.filter((d) => !d.categorical);
    if (loggable.length) {
      append(
        logBox,
        el("span", { class: "hp-log-title" }, "Log scale:"),
        loggable.map((d) =>
          el(
            "label",
            { title: d.canLog ? `log scale on ${d.name}` : `${d.name} has values ≤ 0` },
            el("input", {
              type: "checkbox",
              dataset: { log: d.name },
              disabled: !d.canLog,
              checked: isLog(d),
              onchange: (e) => {
                if (e.target.checked) state.log.add(d.name);
                else state.log.delete(d.name);
                ctx.setParams({ log: joinList(state.log) });
                drawParallel();
                drawScatter();
              },
            }),
            ` ${d.name}`,
          ),
        ),
      );
    }
  }

  // ---- parallel coordinates ----
  function tooltipFor(row) {
    const lines = dims.map((d) => {
      const value = d.kind === "hparam" ? row.hparams[d.name] : row.metrics[d.name];
      const shown = value === undefined || value === null ? "–" : formatNumber(d.kind === "hparam" ? hpValue(value, d.categorical) : value);
      return `${escapeHtml(d.name)}: <b>${escapeHtml(shown)}</b>`;
    });
    const header = row.runs.length > 1 ? `${escapeHtml(row.name)} (${row.runs.length} runs, ${escapeHtml(state.aggregate)})` : escapeHtml(row.name);
    return `<b>${header}</b><br>${lines.join("<br>")}<br><i>click to open its curves</i>`;
  }

  function drawParallel() {
    if (!parallel) {
      parallel = echarts.init(parallelNode);
      parallel.on("axisareaselected", onBrush);
      parallel.on("click", (event) => {
        if (event.componentType === "series" && rows[event.dataIndex]) open(rows[event.dataIndex]);
      });
    }
    const colored = colorDim();
    const colorIndex = colored ? dims.indexOf(colored) : -1;
    const width = parallelNode.clientWidth || 1200;
    const axisWidth = Math.max(60, (width - 220) / Math.max(1, dims.length) - 20);
    const option = {
      animation: false,
      tooltip: { trigger: "item", confine: true, formatter: (params) => (rows[params.dataIndex] ? tooltipFor(rows[params.dataIndex]) : "") },
      parallel: { left: Math.max(70, axisWidth / 2 + 24), right: colored ? 150 : Math.max(70, axisWidth / 2 + 24), top: 60, bottom: 30, parallelAxisDefault: { nameGap: 18 } },
      parallelAxis: dims.map((d, i) => ({
        dim: i,
        id: `axis${i}`,
        name: d.name,
        type: d.categorical ? "category" : isLog(d) ? "log" : "value",
        data: d.categorical ? d.categories : undefined,
        scale: !d.categorical,
        realtime: true,
        nameTextStyle: {
          fontWeight: d.kind === "metric" ? "bold" : "normal",
          color: d.kind === "metric" ? "#0b5394" : "#333",
          width: axisWidth,
          overflow: "truncate",
        },
        axisLabel: d.categorical ? { width: axisWidth, overflow: "truncate" } : { formatter: (v) => formatNumber(v) },
        areaSelectStyle: { width: 24, borderWidth: 1, color: "rgba(11,83,148,0.25)", borderColor: "#0b5394", opacity: 1 },
      })),
      visualMap: colored
        ? {
            type: "continuous",
            dimension: colorIndex,
            min: colored.min ?? 0,
            max: colored.max ?? 1,
            calculable: true,
            right: 10,
            top: "middle",
            itemHeight: 200,
            text: [colored.name, ""],
            textStyle: { width: 130, overflow: "truncate" },
            formatter: (v) => formatNumber(v),
            inRange: { color: COLD_TO_HOT },
            outOfRange: { color: "#ccc" },
          }
        : undefined,
      series: [
        {
          type: "parallel",
          smooth: false,
          inactiveOpacity: 0.06,
          activeOpacity: 1,
          lineStyle: { width: 2.5, opacity: 0.85 },
          emphasis: { lineStyle: { width: 5, opacity: 1 } },
          data: rows.map((row) => ({
            name: row.name,
            value: dims.map((d) => cell(d, row)),
            // The colour map leaves out rows without a finite value of its metric: grey, dashed.
            lineStyle: !colored
              ? { color: ctx.colorOf(row.ids[0]) }
              : finite(row.metrics[colored.name])
                ? undefined
                : { color: "#aaa", type: "dashed", opacity: 0.7 },
          })),
        },
      ],
    };
    parallel.setOption(option, { notMerge: true });
    // Redrawing forgets the brushes: put them back.
    restoring = true;
    for (const [name, intervals] of [...state.brushes]) {
      const i = dims.findIndex((d) => d.name === name);
      if (i >= 0) parallel.dispatchAction({ type: "axisAreaSelect", parallelAxisId: `axis${i}`, intervals });
    }
    restoring = false;
    onBrush();
  }

  function onBrush() {
    if (!parallel || restoring) return;
    const model = parallel.getModel();
    state.brushes.clear();
    dims.forEach((d, i) => {
      const axis = model.getComponent("parallelAxis", i);
      const intervals = axis && axis.activeIntervals;
      if (intervals && intervals.length) state.brushes.set(d.name, intervals.map((x) => [...x]));
    });
    ctx.setParams({ brush: state.brushes.size ? JSON.stringify(Object.fromEntries(state.brushes)) : null });
    if (!state.brushes.size) state.active = null;
    else {
      const series = model.getSeries()[0];
      state.active = new Set(series ? series.getRawIndicesByActiveState("active") : []);
    }
    drawSummary();
    drawTable();
    drawScatter();
  }

  function clearBrushes() {
    restoring = true;
    dims.forEach((d, i) => parallel.dispatchAction({ type: "axisAreaSelect", parallelAxisId: `axis${i}`, intervals: [] }));
    restoring = false;
    onBrush();
  }

  function visibleRows() {
    return state.active ? rows.filter((r) => state.active.has(r.index)) : rows;
  }

  function drawSummary() {
    clear(summary);
    const total = runCount(rows);
    if (!state.active) {
      summary.append(
        el("span", { class: "hp-count" }, `${total} runs`),
        el("span", { class: "hp-hint" }, " · drag along an axis to filter, click a line to open its curves"),
      );
      return;
    }
    const left = visibleRows();
    const ids = left.flatMap((r) => r.ids);
    append(
      summary,
      el("span", { class: "hp-count", id: "hp-count" }, `${ids.length} of ${total} runs`),
      el("button", { type: "button", id: "hp-clear", onclick: clearBrushes }, "Clear filter"),
      ids.length ? el("button", { type: "button", id: "hp-select", onclick: () => ctx.select(ids) }, `Select these ${ids.length}`) : null,
      el(
        "ul",
        { class: "hp-chips" },
        left.flatMap((row) =>
          row.runs.map((run) =>
            el(
              "li",
              {},
              el(
                "a",
                { href: "#", dataset: { run: run.id }, onclick: (e) => { e.preventDefault(); ctx.go("scalars", { runs: run.id }); } },
                el("span", { class: "swatch", style: `background:${ctx.colorOf(run.id)}` }),
                run.name,
              ),
            ),
          ),
        ),
      ),
    );
  }

  // ---- table ----
  function sortValue(row, key) {
    if (key === null) return row.index;
    if (key === "\u0000name") return row.name;
    const [kind, name] = key;
    const value = kind === "hparam" ? row.hparams[name] : row.metrics[name];
    return value === undefined || value === null ? null : value;
  }

  function compare(a, b) {
    const missing = (v) => v === null || (typeof v === "number" && Number.isNaN(v));
    if (missing(a) || missing(b)) return missing(a) - missing(b);
    if (typeof a === "number" && typeof b === "number") return (a - b) * state.sort.dir;
    return String(a).localeCompare(String(b), undefined, { numeric: true }) * state.sort.dir;
  }

  function highlight(row, on) {
    if (parallel) parallel.dispatchAction({ type: on ? "highlight" : "downplay", seriesIndex: 0, dataIndex: row.index });
  }

  function drawTable() {
    clear(tableBox);
    const shown = [...visibleRows()];
    if (state.sort.key !== null) shown.sort((a, b) => compare(sortValue(a, state.sort.key), sortValue(b, state.sort.key)));
    const keyEq = (a, b) => a === b || (Array.isArray(a) && Array.isArray(b) && a[0] === b[0] && a[1] === b[1]);
    const header = (label, key, cls) => {
      const sorted = keyEq(state.sort.key, key);
      return el(
        "th",
        {
          class: `sortable ${cls || ""}`,
          "aria-sort": sorted ? (state.sort.dir > 0 ? "ascending" : "descending") : "none",
          title: `sort by ${label}`,
          onclick: () => {
            state.sort = sorted ? { key, dir: -state.sort.dir } : { key, dir: 1 };
            drawTable();
          },
        },
        label,
        sorted ? (state.sort.dir > 0 ? " ▲" : " ▼") : "",
      );
    };
    append(
      tableBox,
      el(
        "table",
        { class: "hp-table", id: "hp-table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            header(state.grouped ? "group" : "run", "\u0000name"),
            hparamDims().map((d) => header(d.name, ["hparam", d.name], "hparam")),
            metricDims().map((d) => header(d.name, ["metric", d.name], "metric")),
          ),
        ),
        el(
          "tbody",
          {},
          shown.map((row) =>
            el(
              "tr",
              {
                dataset: { runs: row.ids.join(",") },
                onmouseenter: () => highlight(row, true),
                onmouseleave: () => highlight(row, false),
              },
              el(
                "td",
                { class: "name" },
                el("span", { class: "swatch", style: `background:${ctx.colorOf(row.ids[0])}` }),
                el("a", { href: "#", title: "open its curves", onclick: (e) => { e.preventDefault(); open(row); } }, row.name),
              ),
              hparamDims().map((d) => {
                const v = row.hparams[d.name];
                return el("td", { class: typeof v === "number" ? "num" : "" }, v === undefined || v === null ? "" : formatNumber(hpValue(v, d.categorical)));
              }),
              metricDims().map((d) => {
                const v = row.metrics[d.name];
                return el("td", { class: `num metric${finite(v) || v === undefined ? "" : " nonfinite"}` }, v === undefined ? "" : formatNumber(v));
              }),
            ),
          ),
        ),
      ),
      shown.length ? null : el("p", { class: "hp-note" }, "No run is inside every brushed range."),
    );
  }

  // ---- scatter ----
  function defaultX() {
    const candidates = hparamDims().filter((d) => !d.categorical && d.min !== d.max);
    return (candidates[0] || hparamDims()[0] || {}).name;
  }

  function drawScatterControls() {
    clear(scatterControls);
    if (!dimNamed("hparam", state.x)) state.x = defaultX();
    if (!dimNamed("metric", state.y)) state.y = (colorDim() || defaultMetric() || metricDims()[0] || {}).name;
    scatterControls.append(
      select("Metric", "hp-y", metricDims().map((d) => [d.name, d.name]), state.y, (v) => {
        state.y = v;
        ctx.setParams({ y: v });
        drawScatter();
      }),
      select("against", "hp-x", hparamDims().map((d) => [d.name, d.name]), state.x, (v) => {
        state.x = v;
        ctx.setParams({ x: v });
        drawScatter();
      }),
    );
  }

  function drawScatter() {
    const xd = dimNamed("hparam", state.x);
    const yd = dimNamed("metric", state.y);
    clear(scatterNote);
    if (!xd || !yd) {
      if (scatter) scatter.clear();
      scatterNote.append("No hyperparameters or metrics logged yet.");
      return;
    }
    if (!scatter) {
      scatter = echarts.init(scatterNode);
      scatter.on("click", (event) => {
        const row = event.data && rows[event.data.row];
        if (row) open(row);
      });
    }
    const points = [];
    let skipped = 0;
    for (const row of rows) {
      const x = cell(xd, row);
      const y = cell(yd, row);
      if (x === "-" || y === "-") {
        skipped += row.ids.length;
        continue;
      }
      const inside = !state.active || state.active.has(row.index);
      points.push({
        value: [x, y],
        row: row.index,
        name: row.name,
        itemStyle: inside ? { color: ctx.colorOf(row.ids[0]), opacity: 0.9 } : { color: "#ccc", opacity: 0.5 },
        z: inside ? 3 : 2,
      });
    }
    scatter.setOption(
      {
        animation: false,
        grid: { left: 60, right: 20, top: 30, bottom: 50 },
        tooltip: {
          trigger: "item",
          confine: true,
          formatter: (params) => {
            const row = rows[params.data.row];
            return `<b>${escapeHtml(row.name)}</b><br>${escapeHtml(xd.name)}: ${escapeHtml(formatNumber(params.data.value[0]))}<br>${escapeHtml(yd.name)}: ${escapeHtml(formatNumber(params.data.value[1]))}`;
          },
        },
        xAxis: {
          type: xd.categorical ? "category" : isLog(xd) ? "log" : "value",
          data: xd.categorical ? xd.categories : undefined,
          scale: true,
          name: xd.name,
          nameLocation: "middle",
          nameGap: 28,
          axisLabel: xd.categorical ? { width: 120, overflow: "truncate" } : { formatter: (v) => formatNumber(v) },
        },
        yAxis: {
          type: isLog(yd) ? "log" : "value",
          scale: true,
          name: yd.name,
          nameTextStyle: { align: "left" },
          axisLabel: { formatter: (v) => formatNumber(v) },
        },
        series: [{ type: "scatter", symbolSize: 12, data: points, emphasis: { scale: 1.5 } }],
      },
      { notMerge: true },
    );
    if (skipped) scatterNote.append(`${skipped} run${skipped === 1 ? "" : "s"} without a finite ${yd.name} or a ${xd.name} not shown.`);
  }

  function drawAll() {
    drawControls();
    drawScatterControls();
    drawParallel(); // draws the summary, the table and the scatter too
  }

  async function reload() {
    await load();
    drawAll();
  }

  await load();
  if (!rows.length) {
    clear(root);
    root.append(el("p", { class: "empty" }, "No runs in this project yet."));
    return {};
  }
  drawAll();

  const onResize = () => {
    if (parallel) parallel.resize();
    if (scatter) scatter.resize();
  };
  window.addEventListener("resize", onResize);
  return {
    refresh: reload,
    dispose() {
      window.removeEventListener("resize", onResize);
      if (parallel) parallel.dispose();
      if (scatter) scatter.dispose();
    },
  };
}

// The PR curves view (TensorBoard's): one chart per selected run x PR-curve tag, grouped by tag,
// precision against recall at the step chosen with the card's slider (the logged steps; the last
// by default, and the newest again on refresh while it is left at the end).

import { nums } from "../api.js";
import { clear, el, escapeHtml, formatNumber } from "../dom.js";
import { finite, layoutCards, pairKey, samePairs, tagged } from "./common.js";

export function prOption(curve, color) {
  const precision = nums(curve.precision);
  const recall = nums(curve.recall);
  const n = precision.length;
  const data = [];
  for (let i = 0; i < n; i++) {
    if (finite(precision[i]) && finite(recall[i])) data.push({ value: [recall[i], precision[i]], threshold: n > 1 ? i / (n - 1) : 0 });
  }
  return {
    animation: false,
    grid: { left: 52, right: 20, top: 16, bottom: 44 },
    tooltip: {
      trigger: "item",
      confine: true,
      formatter: (p) =>
        `threshold ≈ ${escapeHtml(formatNumber(Number(p.data.threshold.toPrecision(3))))}<br>recall: <b>${escapeHtml(formatNumber(p.value[0]))}</b><br>precision: <b>${escapeHtml(formatNumber(p.value[1]))}</b>`,
    },
    xAxis: { type: "value", name: "recall", nameLocation: "middle", nameGap: 26, min: 0, max: 1 },
    yAxis: { type: "value", name: "precision", nameLocation: "middle", nameGap: 36, min: 0, max: 1 },
    series: [
      {
        type: "line",
        name: `step ${curve.step}`,
        data,
        showSymbol: true,
        symbolSize: 3,
        lineStyle: { color, width: 2 },
        itemStyle: { color },
        areaStyle: { color, opacity: 0.08 },
      },
    ],
  };
}

export async function render(root, ctx) {
  const cards = new Map(); // "run\0tag" -> {chart, slider, output, datalist, curves, step (null: the newest)}
  let pairs = [];
  const body = el("div", { class: "pr-body" });
  root.append(body);

  function show(card) {
    const { curves } = card;
    if (!curves.length) {
      card.chart.setOption({ title: { text: "no data yet", left: "center", top: "middle", textStyle: { color: "#999", fontSize: 12 } } }, { notMerge: true });
      return;
    }
    let index = curves.findIndex((c) => c.step === card.step);
    if (card.step === null || index < 0) index = curves.length - 1;
    card.slider.max = String(curves.length - 1);
    card.slider.value = String(index);
    card.slider.disabled = curves.length < 2;
    card.slider.dataset.steps = curves.map((c) => c.step).join(",");
    clear(card.datalist).append(...curves.map((c, i) => el("option", { value: i, label: String(c.step) })));
    card.output.textContent = `step ${curves[index].step}`;
    card.chart.setOption(prOption(curves[index], card.color), { notMerge: true });
  }

  async function redraw() {
    const found = await tagged(ctx, "pr_curve");
    const data = await Promise.all(found.map((p) => ctx.get(`runs/${encodeURIComponent(p.run)}/pr_curves`, { tag: p.tag })));
    if (!samePairs(found, pairs)) {
      for (const card of cards.values()) card.chart.dispose();
      const kept = new Map([...cards].map(([k, c]) => [k, c.step]));
      cards.clear();
      pairs = found;
      const nodes = [];
      layoutCards(body, ctx, pairs, "PR curves", (pair, i) => {
        const listId = `pr-steps-${i}`;
        const card = {
          color: ctx.colorOf(pair.run),
          step: kept.get(pairKey(pair)) ?? null,
          curves: [],
          datalist: el("datalist", { id: listId }),
          output: el("output", {}),
          chart: null,
        };
        card.slider = el("input", {
          type: "range",
          min: 0,
          max: 0,
          step: 1,
          list: listId,
          "aria-label": "step",
          oninput: () => {
            const index = Number(card.slider.value);
            // At the last step, follow the newest one as it arrives.
            card.step = index === card.curves.length - 1 ? null : card.curves[index].step;
            show(card);
          },
        });
        const node = el("div", { class: "chart pr-chart", dataset: { chart: "pr", run: pair.run, tag: pair.tag } });
        nodes.push([card, node]);
        cards.set(pairKey(pair), card);
        return [el("div", { class: "pr-step" }, el("span", {}, "Step"), card.slider, card.datalist, card.output), node];
      });
      for (const [card, node] of nodes) card.chart = echarts.init(node); // in the page: sized
    }
    pairs.forEach((pair, i) => {
      const card = cards.get(pairKey(pair));
      card.curves = data[i].curves;
      show(card);
    });
  }

  await redraw();
  const onResize = () => cards.forEach((card) => card.chart.resize());
  window.addEventListener("resize", onResize);
  return {
    refresh: redraw,
    dispose() {
      window.removeEventListener("resize", onResize);
      for (const card of cards.values()) card.chart.dispose();
    },
  };
}

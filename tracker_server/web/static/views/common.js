// What several views share.

import { clear, el } from "../dom.js";

export function finite(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/** The selected runs' tags of `kind`, as [{run, tag}] ordered by tag then by selection. */
export async function tagged(ctx, kind) {
  const lists = await Promise.all(ctx.selected.map((id) => ctx.get(`runs/${encodeURIComponent(id)}/tags`)));
  const pairs = [];
  ctx.selected.forEach((run, i) => {
    for (const t of lists[i]) if (t.kind === kind) pairs.push({ run, tag: t.tag });
  });
  const order = [...new Set(pairs.map((p) => p.tag))].sort();
  return pairs.sort((a, b) => order.indexOf(a.tag) - order.indexOf(b.tag));
}

/** The hyperparameters that tell repeats of one configuration apart (seed, random_seed, ...):
 *  grouping leaves them out, so runs differing only in them are one group. */
export function seedNames(names) {
  return names.filter((name) => /seed/i.test(name));
}

/** The key of a {run, tag} pair. */
export function pairKey(pair) {
  return `${pair.run}\u0000${pair.tag}`;
}

/** Whether two lists of {run, tag} pairs are the same, in the same order. */
export function samePairs(a, b) {
  return a.length === b.length && a.every((pair, i) => pairKey(pair) === pairKey(b[i]));
}

/**
 * Lay out one card per {run, tag} pair in `body`, a section per tag: each card is titled with its
 * run (in the run's colour) and holds what `content(pair, index)` returns. Says so when no run is
 * selected, or when the selected runs logged no `what`.
 */
export function layoutCards(body, ctx, pairs, what, content) {
  clear(body);
  if (!ctx.selected.length) body.append(el("p", { class: "empty" }, "No run selected: pick runs in the Runs tab."));
  else if (!pairs.length) body.append(el("p", { class: "empty" }, `The selected runs logged no ${what}.`));
  let section = null;
  let grid = null;
  pairs.forEach((pair, i) => {
    if (!section || section.dataset.tag !== pair.tag) {
      grid = el("div", { class: "chart-grid" });
      section = el("section", { class: "tag-section", dataset: { tag: pair.tag } }, el("h2", {}, pair.tag), grid);
      body.append(section);
    }
    const run = ctx.runName(pair.run);
    const title = el(
      "h3",
      { title: `${pair.tag} · ${run}` },
      el("span", { class: "swatch", style: `background:${ctx.colorOf(pair.run)}` }),
      el("span", { class: "run" }, run),
    );
    grid.append(el("div", { class: "card" }, title, content(pair, i)));
  });
}

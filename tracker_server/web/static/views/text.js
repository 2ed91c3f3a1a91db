// The Text view: per selected run x text tag (grouped by tag), every logged step and its text, shown
// as plain text (text nodes in a <pre>, whitespace kept): a summary is never rendered as HTML or
// Markdown, so whatever a run logged is shown exactly as it was logged.

import { clear, el } from "../dom.js";
import { layoutCards, pairKey, samePairs, tagged } from "./common.js";

export async function render(root, ctx) {
  const body = el("div", { class: "text-body" });
  root.append(body);
  let pairs = [];
  const lists = new Map(); // "run\0tag" -> <ul>

  function fill(list, texts) {
    const scroll = list.scrollTop;
    clear(list);
    if (!texts.length) list.append(el("li", { class: "empty" }, "no text yet"));
    for (const t of texts) {
      list.append(el("li", { dataset: { step: t.step } }, el("span", { class: "step" }, `step ${t.step}`), el("pre", { class: "text" }, t.text)));
    }
    list.scrollTop = scroll;
  }

  async function redraw() {
    const found = await tagged(ctx, "text");
    const data = await Promise.all(found.map((p) => ctx.get(`runs/${encodeURIComponent(p.run)}/texts`, { tag: p.tag })));
    if (!samePairs(found, pairs)) {
      pairs = found;
      lists.clear();
      layoutCards(body, ctx, pairs, "text", (pair) => {
        const list = el("ul", { class: "text-list", dataset: { run: pair.run, tag: pair.tag } });
        lists.set(pairKey(pair), list);
        return list;
      });
    }
    pairs.forEach((pair, i) => fill(lists.get(pairKey(pair)), data[i].texts));
  }

  await redraw();
  return { refresh: redraw };
}

// The Text view: per selected run x text tag (grouped by tag), every logged step and its text, shown
// as plain text (text nodes in a <pre>, whitespace kept): a summary is never rendered as HTML or
// Markdown, so whatever a run logged is shown exactly as it was logged.

import { clear, el } from "../dom.js";
import { tagged } from "./common.js";

export async function render(root, ctx) {
  const body = el("div", { class: "text-body" });
  root.append(body);
  const key = (p) => `${p.run}\u0000${p.tag}`;
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
    if (found.map(key).join("\u0001") !== pairs.map(key).join("\u0001")) {
      pairs = found;
      lists.clear();
      clear(body);
      if (!ctx.selected.length) body.append(el("p", { class: "empty" }, "No run selected: pick runs in the Runs tab."));
      else if (!pairs.length) body.append(el("p", { class: "empty" }, "The selected runs logged no text."));
      let section = null;
      let grid = null;
      for (const pair of pairs) {
        if (!section || section.dataset.tag !== pair.tag) {
          grid = el("div", { class: "chart-grid" });
          section = el("section", { class: "tag-section", dataset: { tag: pair.tag } }, el("h2", {}, pair.tag), grid);
          body.append(section);
        }
        const list = el("ul", { class: "text-list", dataset: { run: pair.run, tag: pair.tag } });
        lists.set(key(pair), list);
        grid.append(
          el(
            "div",
            { class: "card" },
            el("h3", { title: `${pair.tag} · ${ctx.runName(pair.run)}` }, el("span", { class: "swatch", style: `background:${ctx.colorOf(pair.run)}` }), el("span", { class: "run" }, ctx.runName(pair.run))),
            list,
          ),
        );
      }
    }
    pairs.forEach((pair, i) => fill(lists.get(key(pair)), data[i].texts));
  }

  await redraw();
  return { refresh: redraw };
}

// The runs view: every run of the project in one table (status, who, when, hyperparameters and
// the last value of each scalar tag), sortable by any column, filtered by a query, with checkboxes
// that select the runs the other tabs show. Sort, filter and selection live in the URL.
//
// Built for thousands of runs: only the rows in (and near) the scrolled window are in the page,
// between two spacer rows that keep the scrollbar true to the whole list. A row is built the first
// time it is shown and kept; sorting and filtering reorder an array. One listener each on the
// header, the body and the scroller.
//
// Filter syntax (terms separated by spaces, all must hold):
//   word          the run's name contains it (case-insensitive)
//   key=value     hyperparameter (or metric tag, or status / created_by) equals value
//   key!=value    ... differs;  key>v, key<v, key>=v, key<=v: numeric comparisons

import { num } from "../api.js";
import { el, formatNumber } from "../dom.js";

const FIXED = [
  { key: "name", label: "name", get: (r) => r.name },
  { key: "status", label: "status", get: (r) => r.status },
  { key: "created_by", label: "created by", get: (r) => r.created_by || "" },
  { key: "created_at", label: "created", get: (r) => r.created_at || "" },
];

function columnsOf(ctx) {
  return [
    ...FIXED.map((c) => ({ ...c, kind: "fixed" })),
    ...ctx.hparamNames.map((name, i) => ({ key: `hp:${name}`, label: name, kind: "hparam", start: i === 0, get: (r) => r.hparams[name] })),
    ...ctx.metricNames.map((tag, i) => ({ key: `m:${tag}`, label: tag, kind: "metric", start: i === 0, get: (r) => num(r.metrics[tag]) })),
  ];
}

function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Missing values and NaN sort last in either direction. */
function isMissing(v) {
  return v === undefined || v === null || v === "" || (typeof v === "number" && Number.isNaN(v));
}

/** Ascending order of present values: numbers (and booleans) before strings. */
function compareValues(a, b) {
  const numA = typeof a === "number" || typeof a === "boolean";
  const numB = typeof b === "number" || typeof b === "boolean";
  if (numA && numB) return Number(a) - Number(b);
  if (numA !== numB) return numA ? -1 : 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

const ROW_HEIGHT = 28; // px, as style.css sets it; measured on the first row drawn
const OVERSCAN = 30; // rows drawn beyond each edge of the scrolled window

const TERM = /^([^=!<>]+)(!=|>=|<=|=|>|<)(.*)$/;

/** The filter query as a predicate over runs. */
export function parseFilter(query) {
  const tests = [];
  for (const term of query.trim().split(/\s+/).filter(Boolean)) {
    const match = TERM.exec(term);
    if (!match) {
      const needle = term.toLowerCase();
      tests.push((r) => r.name.toLowerCase().includes(needle));
      continue;
    }
    const [, key, op, raw] = match;
    const valueOf = (r) => {
      if (key in r.hparams) return r.hparams[key];
      if (key in r.metrics) return num(r.metrics[key]);
      if (key === "status" || key === "created_by" || key === "name") return r[key];
      return undefined;
    };
    const target = raw === "" ? NaN : Number(raw);
    tests.push((r) => {
      const v = valueOf(r);
      if (v === undefined) return op === "!=";
      const n = typeof v === "boolean" ? Number(v) : typeof v === "number" ? v : NaN;
      const numeric = !Number.isNaN(target) && !Number.isNaN(n);
      const equal = numeric ? n === target : String(v) === raw;
      switch (op) {
        case "=": return equal;
        case "!=": return !equal;
        case ">": return numeric && n > target;
        case "<": return numeric && n < target;
        case ">=": return numeric && n >= target;
        case "<=": return numeric && n <= target;
        default: return false;
      }
    });
  }
  return (r) => tests.every((t) => t(r));
}

function cellFor(run, column, ctx) {
  if (column.key === "name") {
    const params = new URLSearchParams({ runs: run.id });
    return el(
      "td",
      { class: "name" },
      el("span", { class: "swatch", style: `background:${ctx.colorOf(run.id)}` }),
      el("a", { href: `#/p/${encodeURIComponent(ctx.project)}/scalars?${params}`, title: run.id }, run.name),
    );
  }
  if (column.key === "status") return el("td", {}, el("span", { class: `status status-${run.status}` }, run.status));
  if (column.key === "created_at") return el("td", { class: "time", title: run.created_at || "" }, formatTime(run.created_at));
  const value = column.get(run);
  if (column.kind === "fixed") return el("td", {}, value);
  const isNum = typeof value === "number";
  const bad = isNum && !Number.isFinite(value);
  return el("td", { class: `${isNum ? "num" : ""}${bad ? " nonfinite" : ""}${column.start ? " start" : ""}` }, formatNumber(value));
}

export async function render(root, ctx) {
  const runs = ctx.runs;
  const columns = columnsOf(ctx);
  const selected = new Set(ctx.selected);
  let sortKey = ctx.params.get("sort") || "created_at";
  let descending = ctx.params.get("order") === "desc";
  if (!columns.some((c) => c.key === sortKey)) sortKey = "created_at";
  let visible = runs;

  // Header: a checkbox for every visible row, then one sortable cell per column.
  const all = el("input", { type: "checkbox", id: "select-all", title: "select every visible run", "aria-label": "select every visible run" });
  const headCells = columns.map((c) =>
    el("th", { class: `sortable ${c.kind}${c.start ? " start" : ""}`, dataset: { key: c.key }, title: `sort by ${c.label}` }, c.label),
  );
  const groupRow = el(
    "tr",
    { class: "groups" },
    el("th", { colspan: FIXED.length + 1 }),
    ctx.hparamNames.length ? el("th", { colspan: ctx.hparamNames.length, class: "start" }, "hyperparameters") : null,
    ctx.metricNames.length ? el("th", { colspan: ctx.metricNames.length, class: "start" }, "last values") : null,
  );
  const thead = el("thead", {}, groupRow, el("tr", {}, el("th", { class: "check" }, all), headCells));

  // Rows: built when first shown, then kept; only a window of them is in the table at a time.
  const rows = new Map();
  function rowFor(run) {
    let row = rows.get(run.id);
    if (!row) {
      const box = el("input", { type: "checkbox", "aria-label": `select ${run.name}` });
      const tr = el("tr", { dataset: { run: run.id } }, el("td", { class: "check" }, box), columns.map((c) => cellFor(run, c, ctx)));
      row = { tr, box, run };
      rows.set(run.id, row);
    }
    row.box.checked = selected.has(run.id);
    row.tr.classList.toggle("selected", row.box.checked);
    return row;
  }
  const spacer = () => el("tr", { class: "spacer", "aria-hidden": "true" }, el("td", { colspan: columns.length + 1 }));
  const above = spacer();
  const below = spacer();
  const tbody = el("tbody", {});
  const table = el("table", { class: "runs", id: "runs-table" }, thead, tbody);
  const scroller = el("div", { class: "table-wrap" }, table);
  let rowHeight = 0;
  let shown = [-1, -1];

  /** Put the rows of the scrolled window (plus a margin) between the spacers. */
  function drawWindow(force = false) {
    if (!rowHeight) {
      // Measure one row once (the stylesheet fixes the height; this follows it).
      const probe = visible.length ? rowFor(visible[0]).tr : null;
      if (probe) {
        tbody.replaceChildren(probe);
        rowHeight = probe.getBoundingClientRect().height || ROW_HEIGHT;
      }
    }
    const height = rowHeight || ROW_HEIGHT;
    const first = Math.max(0, Math.floor(scroller.scrollTop / height) - OVERSCAN);
    const last = Math.min(visible.length, Math.ceil((scroller.scrollTop + (scroller.clientHeight || 900)) / height) + OVERSCAN);
    if (!force && first === shown[0] && last === shown[1]) return;
    shown = [first, last];
    above.firstChild.style.height = `${first * height}px`;
    below.firstChild.style.height = `${(visible.length - last) * height}px`;
    const fragment = document.createDocumentFragment();
    fragment.append(above);
    for (let i = first; i < last; i++) fragment.append(rowFor(visible[i]).tr);
    fragment.append(below);
    tbody.replaceChildren(fragment);
  }
  let scrollFrame = 0;
  scroller.addEventListener("scroll", () => {
    if (!scrollFrame) scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      drawWindow();
    });
  });

  const filter = el("input", {
    type: "search",
    id: "run-filter",
    placeholder: "filter: name, or lr=0.1, seed!=0, train/loss<0.5 …",
    value: ctx.params.get("filter") || "",
    spellcheck: "false",
    autocomplete: "off",
  });
  const count = el("span", { class: "count", id: "run-count" });
  const open = el("button", { id: "open-scalars", class: "primary" }, "Open in Scalars");
  const none = el("button", { id: "clear-selection" }, "Clear selection");

  function updateCount() {
    const shownSelected = visible.filter((r) => selected.has(r.id)).length;
    count.textContent = `${visible.length} of ${runs.length} runs · ${selected.size} selected`;
    all.checked = visible.length > 0 && shownSelected === visible.length;
    all.indeterminate = shownSelected > 0 && shownSelected < visible.length;
    open.disabled = selected.size === 0;
  }

  function commitSelection() {
    // Keep the table's order (oldest first), as the shell does.
    ctx.select(runs.filter((r) => selected.has(r.id)).map((r) => r.id), { redraw: false });
    updateCount();
  }

  function setChecked(id, on) {
    if (on) selected.add(id);
    else selected.delete(id);
    const row = rows.get(id);
    if (row) {
      row.box.checked = on;
      row.tr.classList.toggle("selected", on);
    }
  }

  function apply() {
    const keep = parseFilter(filter.value);
    const column = columns.find((c) => c.key === sortKey);
    const order = runs.map((r, i) => [r, column.get(r), i, isMissing(column.get(r))]);
    order.sort((a, b) => a[3] - b[3] || (a[3] ? 0 : (descending ? -1 : 1) * compareValues(a[1], b[1])) || a[2] - b[2]);
    visible = order.map(([run]) => run).filter(keep);
    scroller.scrollTop = 0; // a new order or filter starts from its top
    drawWindow(true);
    for (const th of headCells) {
      const active = th.dataset.key === sortKey;
      th.classList.toggle("sorted", active);
      th.classList.toggle("desc", active && descending);
      th.setAttribute("aria-sort", active ? (descending ? "descending" : "ascending") : "none");
    }
    updateCount();
  }

  thead.addEventListener("click", (event) => {
    const th = event.target.closest("th[data-key]");
    if (!th) return;
    if (th.dataset.key === sortKey) descending = !descending;
    else {
      sortKey = th.dataset.key;
      descending = false;
    }
    ctx.setParams({ sort: sortKey === "created_at" ? null : sortKey, order: descending ? "desc" : null });
    apply();
  });
  tbody.addEventListener("change", (event) => {
    const tr = event.target.closest("tr[data-run]");
    if (!tr) return;
    setChecked(tr.dataset.run, event.target.checked);
    commitSelection();
  });
  all.addEventListener("change", () => {
    for (const run of visible) setChecked(run.id, all.checked);
    commitSelection();
  });
  let filterTimer = null;
  filter.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      ctx.setParams({ filter: filter.value.trim() });
      apply();
    }, runs.length > 2000 ? 150 : 0);
  });
  open.addEventListener("click", () => ctx.go("scalars"));
  none.addEventListener("click", () => {
    for (const id of [...selected]) setChecked(id, false);
    commitSelection();
  });

  root.append(
    el("div", { class: "toolbar" }, filter, count, el("span", { class: "spacer" }), none, open),
    runs.length ? scroller : el("p", { class: "empty" }, "No runs in this project yet."),
  );
  apply();
  return {
    dispose() {
      clearTimeout(filterTimer);
      cancelAnimationFrame(scrollFrame);
    },
  };
}

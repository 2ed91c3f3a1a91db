// The single-page UI: hash routes, the login screen, the project list, and the project page whose
// tabs are the view modules in views/. The state a person would bookmark or share (project, tab,
// selected runs, view options) lives in the URL hash; the API token lives in sessionStorage.
//
// Routes: #/                        the projects
//         #/p/<project>/<view>?runs=<id>,<id>&<option>=<value>...
//
// A view module exports `render(root, ctx)`, which draws into `root` and returns an object with
// an optional `refresh()` (called every few seconds while a selected run is running, and which must
// keep zoom and selection) and an optional `dispose()`. `ctx` is built by projectContext() below.

import { AuthError, clearToken, get, getToken, setToken } from "./api.js";
import { paletteFor } from "./colors.js";
import { clear, el } from "./dom.js";
import * as hparams from "./views/hparams.js";
import * as histograms from "./views/histograms.js";
import * as pr from "./views/pr.js";
import * as runs from "./views/runs.js";
import * as scalars from "./views/scalars.js";
import * as text from "./views/text.js";

const VIEWS = [
  ["runs", "Runs", runs],
  ["scalars", "Scalars", scalars],
  ["histograms", "Histograms", histograms],
  ["hparams", "HParams", hparams],
  ["pr", "PR curves", pr],
  ["text", "Text", text],
];
const LIVE_SECONDS = 5;
const DEFAULT_SELECTION = 10;

const root = document.getElementById("app");
let current = null; // the rendered view: {refresh, dispose}
let liveTimer = null;
let me = null;

export function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

export function hashFor(project, view, params) {
  const query = params && [...params].length ? `?${params}` : "";
  return `#/p/${encodeURIComponent(project)}/${view}${query}`;
}

function stopView() {
  if (liveTimer) clearInterval(liveTimer);
  liveTimer = null;
  if (current && current.dispose) current.dispose();
  current = null;
}

function showLogin(message) {
  stopView();
  clear(root);
  const input = el("input", { type: "password", id: "token", autocomplete: "off", placeholder: "trk_…", size: 50 });
  const form = el(
    "form",
    { class: "login", id: "login" },
    el("h1", {}, "Tracker"),
    el("p", {}, "Sign in with an API token (a server admin makes one with `tracker admin token create USER`)."),
    message ? el("p", { class: "error", role: "alert" }, message) : null,
    el("label", { for: "token" }, "API token "),
    input,
    el("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    route();
  });
  root.append(form);
  input.focus();
}

function header(project) {
  const user = me && me.auth === "token"
    ? el("span", { class: "user" }, `${me.user} `, el("button", { id: "logout", onclick: () => { clearToken(); me = null; showLogin("Signed out."); } }, "Sign out"))
    : null;
  return el(
    "header",
    {},
    el("a", { href: "#/", class: "brand" }, "Tracker"),
    project ? el("span", { class: "crumb" }, " / ", el("a", { href: hashFor(project, "runs") }, project)) : null,
    user,
  );
}

async function showProjects() {
  const projects = await get("projects");
  clear(root);
  root.append(
    header(null),
    el(
      "main",
      {},
      el("h1", {}, "Projects"),
      projects.length
        ? el(
            "table",
            { class: "projects" },
            el("thead", {}, el("tr", {}, el("th", {}, "project"), el("th", {}, "runs"), el("th", {}, "created"))),
            el(
              "tbody",
              {},
              projects.map((p) =>
                el(
                  "tr",
                  {},
                  el("td", {}, el("a", { href: hashFor(p.name, "runs") }, p.name)),
                  el("td", { class: "num" }, p.run_count),
                  el("td", {}, p.created_at.slice(0, 19).replace("T", " ")),
                ),
              ),
            ),
          )
        : el("p", {}, "No projects yet. Log a run with tracker.init(project=...)."),
    ),
  );
}

function projectContext(project, view, params, table) {
  const byId = new Map(table.runs.map((r) => [r.id, r]));
  let selected = (params.get("runs") || "").split(",").filter((id) => byId.has(id));
  if (!params.has("runs")) selected = table.runs.slice(-DEFAULT_SELECTION).map((r) => r.id);
  return {
    project,
    view,
    params,
    runs: table.runs,
    hparamNames: table.hparams,
    metricNames: table.metrics,
    /** The selected run ids (kept current by select()). */
    get selected() {
      return selected;
    },
    run: (id) => byId.get(id),
    runName: (id) => (byId.get(id) ? byId.get(id).name : id),
    colorOf: paletteFor(table.runs.map((r) => r.id)),
    get,
    /** Change view options in the URL without redrawing (e.g. smoothing, zoom). */
    setParams(updates) {
      for (const [key, value] of Object.entries(updates)) {
        if (value === null || value === undefined || value === "") params.delete(key);
        else params.set(key, String(value));
      }
      history.replaceState(null, "", hashFor(project, view, params));
    },
    /** Select runs (kept in the URL) and redraw the current view; with {redraw: false} only
     *  the URL and ctx.selected change (e.g. checkboxes in a table that stays as it is). */
    select(ids, { redraw = true } = {}) {
      selected = ids.filter((id) => byId.has(id));
      params.set("runs", selected.join(","));
      if (redraw) location.hash = hashFor(project, view, params);
      else history.replaceState(null, "", hashFor(project, view, params));
    },
    /** Go to another tab (or the same with other options), keeping the run selection. */
    go(target, extra = {}) {
      const next = new URLSearchParams();
      next.set("runs", selected.join(","));
      for (const [key, value] of Object.entries(extra)) next.set(key, String(value));
      location.hash = hashFor(project, target, next);
    },
  };
}

async function showProject(project, view, params) {
  const entry = VIEWS.find(([name]) => name === view) || VIEWS[0];
  const table = await get(`projects/${encodeURIComponent(project)}/runs`);
  const ctx = projectContext(project, entry[0], params, table);
  clear(root);
  const tabs = el(
    "nav",
    { class: "tabs" },
    VIEWS.map(([name, label]) =>
      el("a", { href: "#", class: name === entry[0] ? "active" : "", dataset: { tab: name }, onclick: (e) => { e.preventDefault(); ctx.go(name); } }, label),
    ),
  );
  const body = el("section", { class: `view view-${entry[0]}`, id: "view" });
  root.append(header(project), tabs, el("main", {}, body));
  current = (await entry[2].render(body, ctx)) || {};
  const live = ctx.selected.some((id) => ctx.run(id) && ctx.run(id).status === "running");
  if (live && current.refresh) {
    liveTimer = setInterval(async () => {
      try {
        await current.refresh();
      } catch (error) {
        handleError(error);
      }
    }, LIVE_SECONDS * 1000);
  }
}

function handleError(error) {
  if (error instanceof AuthError) {
    const hadToken = Boolean(getToken());
    clearToken();
    showLogin(hadToken ? "Your token is not valid any more (expired or revoked). Sign in with a new one." : null);
    return;
  }
  stopView();
  clear(root);
  root.append(header(null), el("main", {}, el("p", { class: "error", role: "alert" }, String(error.message || error))));
}

export async function route() {
  stopView();
  try {
    if (!me) me = await get("whoami");
    const { parts, params } = parseHash();
    if (parts[0] === "p" && parts[1]) await showProject(parts[1], parts[2] || "runs", params);
    else await showProjects();
    document.body.dataset.ready = "true";
  } catch (error) {
    me = null;
    handleError(error);
  }
}

window.addEventListener("hashchange", () => {
  document.body.dataset.ready = "false";
  route();
});
route();

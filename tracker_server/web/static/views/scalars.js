// The scalars view (to be built).
import { el } from "../dom.js";

export async function render(root, ctx) {
  root.append(el("p", {}, "The scalars view is not built yet."));
  return {};
}

// The runs view (to be built).
import { el } from "../dom.js";

export async function render(root, ctx) {
  root.append(el("p", {}, "The runs view is not built yet."));
  return {};
}

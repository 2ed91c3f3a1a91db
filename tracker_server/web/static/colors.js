// Stable colours: a run keeps its colour across views, reloads and selections. Runs take the
// palette in the order they were created in their project (neighbours never clash); a run the
// project's list does not know (yet) gets one from a hash of its id.

const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173",
  "#3182bd", "#e6550d", "#31a354", "#756bb1",
];

function hashed(runId) {
  let hash = 2166136261;
  for (let i = 0; i < runId.length; i++) {
    hash ^= runId.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return PALETTE[(hash >>> 0) % PALETTE.length];
}

/** colorOf(runId) for a project whose runs, oldest first, are `runIds`. */
export function paletteFor(runIds) {
  const position = new Map(runIds.map((id, i) => [id, i]));
  return (runId) => (position.has(runId) ? PALETTE[position.get(runId) % PALETTE.length] : hashed(runId));
}

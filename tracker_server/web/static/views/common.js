// What several views share.

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

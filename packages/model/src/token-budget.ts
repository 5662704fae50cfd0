// Packing rows into batches under a padded-token budget (issue 21, micro-batching by a token
// budget): a batch of rows that are left- and right-padded to a common width costs
// rows × (longest head + longest tail) tokens. Host-only; used by the GRPO update's passes
// (@atmanrl/grpo) and the mask-fit batches (@atmanrl/saliency). Leaves out what a batch computes.

/** One row's two padded parts: the left-padded head (prompt) and the right-padded tail (completion). */
export interface PackRow {
  head: number;
  tail: number;
}

/** Padded tokens of a batch holding `rows`: rows × (longest head + longest tail). */
export function paddedTokens(rows: readonly PackRow[]): number {
  let head = 0;
  let tail = 0;
  for (const r of rows) {
    head = Math.max(head, r.head);
    tail = Math.max(tail, r.tail);
  }
  return rows.length * (head + tail);
}

/**
 * Greedy packing of `rows` into batches of at most `budget` padded tokens (see
 * {@link paddedTokens}) and `maxRows` rows:
 * rows sorted by `head + tail`, longest first (ties in index order), each appended to the current
 * batch while both limits hold, else opening the next batch. A row that alone exceeds the budget
 * gets a batch of its own. Every index appears once; indices ascend within a batch.
 * @param rows the rows' padded lengths
 * @param budget padded tokens per batch (a positive number)
 * @param maxRows rows per batch (default: no limit)
 * @returns the batches as lists of row indices
 */
export function packByTokens(
  rows: readonly PackRow[],
  budget: number,
  maxRows = Number.POSITIVE_INFINITY,
): number[][] {
  const order = rows.map((_, i) => i);
  order.sort((a, b) => rows[b]!.head + rows[b]!.tail - (rows[a]!.head + rows[a]!.tail) || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let head = 0; // longest head / tail of the current batch
  let tail = 0;
  for (const i of order) {
    const r = rows[i]!;
    const h = Math.max(head, r.head);
    const t = Math.max(tail, r.tail);
    const full = current.length >= maxRows || (current.length + 1) * (h + t) > budget;
    if (current.length > 0 && full) {
      batches.push(current);
      current = [i];
      head = r.head;
      tail = r.tail;
    } else {
      current.push(i);
      head = h;
      tail = t;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches.map((b) => b.sort((x, y) => x - y));
}

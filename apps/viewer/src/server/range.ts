// HTTP byte ranges (RFC 9110 §14): the single-range forms the run reader uses to follow
// growing JSONL files (`bytes=N-`), plus `bytes=N-M` and suffix `bytes=-N`. Multi-range
// requests are answered with the whole file (allowed by the RFC).

/** A resolved byte range `[start, end]` (inclusive), `unsatisfiable`, or `null` = whole file. */
export type ByteRange = { start: number; end: number } | 'unsatisfiable' | null;

/** Parses a `Range` header against a file of `size` bytes. */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // unknown unit or multiple ranges: serve the whole file
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (size === 0) return 'unsatisfiable';
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (end < start) return null;
  return { start, end };
}

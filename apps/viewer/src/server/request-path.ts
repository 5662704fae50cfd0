// Turning a request pathname into safe path segments. Refuses traversal in every spelling
// (`..`, `%2e%2e`, `%2f`, backslashes, NUL) before anything touches the file system.

/** Result of {@link decodeRequestPath}: the decoded segments, or why the path was refused. */
export type DecodedPath =
  | { ok: true; segments: string[] }
  | { ok: false; status: 400 | 403; reason: string };

/**
 * Splits a URL pathname (still percent-encoded, as in `req.url`) into decoded segments.
 * A segment that decodes to `.`, `..`, or contains `/`, `\` or NUL is refused with 403;
 * malformed percent-encoding with 400. Empty segments (`a//b`, trailing `/`) are dropped.
 */
export function decodeRequestPath(pathname: string): DecodedPath {
  const segments: string[] = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return { ok: false, status: 400, reason: `malformed percent-encoding in "${raw}"` };
    }
    if (seg === '.' || seg === '..' || /[/\\\0]/.test(seg)) {
      return { ok: false, status: 403, reason: `path segment "${raw}" is not allowed` };
    }
    segments.push(seg);
  }
  return { ok: true, segments };
}

// Confining user-supplied relative paths to a root folder (path traversal is refused).
import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * Resolves `relPath` (`/`-separated, relative) inside `root`; returns `null` when the result
 * would leave `root` (`..`, absolute paths, NUL bytes).
 */
export function resolveInside(root: string, relPath: string): string | null {
  if (relPath.includes('\0')) return null;
  const cleaned = relPath.replace(/^\/+/, '');
  if (isAbsolute(cleaned)) return null;
  const base = resolve(root);
  const abs = resolve(base, cleaned);
  const rel = relative(base, abs);
  if (rel === '') return abs;
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) return null;
  return abs;
}

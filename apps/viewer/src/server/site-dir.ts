// Where the built browser site lives: `dist/site` next to `dist/server.js` once built.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ViewerError } from '../errors.js';

/**
 * Folder of the built site (`index.html` + `assets/`). Looks next to the built server
 * (`dist/site`) and, when running from sources (tests), in `../../dist/site`.
 */
export function defaultStaticDir(): string {
  const candidates = [
    fileURLToPath(new URL('./site/', import.meta.url)),
    fileURLToPath(new URL('../../dist/site/', import.meta.url)),
  ];
  for (const dir of candidates) if (existsSync(join(dir, 'index.html'))) return dir;
  throw new ViewerError(
    'SITE_NOT_BUILT',
    `the viewer site is not built (looked in ${candidates.join(', ')}); run \`pnpm --filter @atmanrl/viewer build\` or pass staticDir`,
  );
}

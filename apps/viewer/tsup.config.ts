import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

// Only the Node half (server + export) is built by tsup; the browser site is built by Vite into
// dist/site (see vite.config.ts). tsup runs first because its `clean` empties dist/.
export default defineConfig(preset({ entry: { server: 'src/server/index.ts' } }));

import { vitestPreset } from './vitest.preset.js';

// `pnpm --filter @atmanrl/tooling test:pack`: pack every package, install the tarballs with npm
// into a temporary project, require/import/bundle them. Needs `pnpm build` first and the npm
// registry (or npm's cache).
export default vitestPreset('tooling-pack', { include: ['test/pack/**/*.test.js'] });

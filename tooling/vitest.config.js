import { vitestPreset } from './vitest.preset.js';

// The default suite (`pnpm --filter @atmanrl/tooling test`, part of `pnpm test`). The pack-and-
// install test is separate (vitest.pack.config.js, `test:pack`): it needs every package built and
// the npm registry.
export default vitestPreset('tooling', {
  include: ['scripts/**/*.test.js', 'bench/**/*.test.js', 'test/**/*.test.js'],
  exclude: ['**/node_modules/**', 'test/pack/**', 'tmp-*/**'],
});

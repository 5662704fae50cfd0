// Shared tsup preset: ESM + .d.ts, one entry per public entry point, node20 target.
/** @param {Partial<import('tsup').Options>} [overrides] */
export function preset(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}

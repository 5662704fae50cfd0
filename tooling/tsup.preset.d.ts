import type { Options } from 'tsup';
/** Shared tsup options (ESM + .d.ts, node20); `overrides` are spread on top. */
export function preset(overrides?: Partial<Options>): Options;

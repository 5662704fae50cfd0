import type { ViteUserConfig } from 'vitest/config';
/** Shared vitest config; `name` names the JSON results file read by the CI summary. */
export function vitestPreset(
  name: string,
  test?: NonNullable<ViteUserConfig['test']>,
): ViteUserConfig;

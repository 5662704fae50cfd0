// The package.json that goes into a published tarball: the workspace manifest without what only
// this repository uses. Called by pnpm's `beforePacking` hook (/.pnpmfile.mjs) on `pnpm pack` and
// `pnpm publish`; the local package.json is never rewritten.

/** Fields that only make sense inside this workspace. */
export const WORKSPACE_ONLY_FIELDS = ['scripts', 'devDependencies'];

/**
 * Returns a copy of `manifest` fit for publishing: no `scripts` (they call workspace tools such as
 * tsup, vitest and biome through `@atmanrl/tooling`) and no `devDependencies` (consumers never
 * install them, and one of them, `@atmanrl/tooling`, is private).
 *
 * @param {Record<string, unknown>} manifest  the manifest pnpm is about to pack
 * @returns {Record<string, unknown>}
 */
export function publishManifest(manifest) {
  const out = { ...manifest };
  for (const field of WORKSPACE_ONLY_FIELDS) delete out[field];
  return out;
}

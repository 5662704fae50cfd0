// pnpm hooks. Only `beforePacking`: published package.json files carry no scripts and no
// devDependencies (see tooling/pnpm/publish-manifest.mjs).
import { publishManifest } from './tooling/pnpm/publish-manifest.mjs';

export const hooks = {
  beforePacking: (manifest) => publishManifest(manifest),
};

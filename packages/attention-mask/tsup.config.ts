import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

// Two entries: the browser-safe main entry (`.`) and the Node half (`./node`: backend set-up).
// Shared code goes into one chunk, so AttentionMaskError is one class in both.
// tfjs-core's gradient registrations are extension-less ESM that Node cannot import, so they
// (and the tfjs-core internals they use) are bundled; `@tensorflow/tfjs-core` itself stays
// external, so the gradients land in the user's tfjs-core registry (src/_internal/gradients.ts).
export default defineConfig(
  preset({
    entry: { index: 'src/index.ts', node: 'src/node/index.ts' },
    splitting: true,
    noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  }),
);

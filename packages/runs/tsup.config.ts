import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

// Two entries: the browser-safe reader (`.`) and the Node writer (`./node`).
export default defineConfig(
  preset({ entry: { index: 'src/index.ts', node: 'src/node/index.ts' }, splitting: true }),
);

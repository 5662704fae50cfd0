import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

// Two entries: the browser-safe main entry (`.`) and the Node half (`./node`: Hugging Face folders
// on disk). Shared code goes into one chunk, so ModelError is one class in both.
export default defineConfig(
  preset({ entry: { index: 'src/index.ts', node: 'src/node/index.ts' }, splitting: true }),
);

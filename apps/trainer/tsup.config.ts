import { preset } from '@atmanrl/tooling/tsup';
import { defineConfig } from 'tsup';

export default defineConfig(
  preset({ entry: ['src/index.ts', 'src/cli.ts', 'src/_internal/pool/worker.ts'] }),
);

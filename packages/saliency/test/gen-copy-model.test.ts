// Regenerates test/fixtures/copy-model (the trained copy-task model, see copy-task.ts):
//   GEN_FIXTURES=1 ATMANRL_BACKEND=wasm pnpm exec vitest run test/gen-copy-model.test.ts
// Skipped in normal test runs; the committed fixture is what the tests load.
import { join } from 'node:path';
import { saveModel } from '@atmanrl/model/node';
import { expect, it } from 'vitest';
import { trainCopyModel } from './copy-task.js';
import { setUpBackend } from './helpers.js';

it.runIf(process.env['GEN_FIXTURES'] === '1')(
  'trains and saves the copy-task model',
  async () => {
    await setUpBackend();
    const { model, finalLoss } = await trainCopyModel(0, 120);
    expect(finalLoss).toBeLessThan(0.05);
    await saveModel(model, join(import.meta.dirname, 'fixtures', 'copy-model'));
    model.dispose();
  },
  600_000,
);

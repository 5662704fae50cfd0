// `atmanrl view <folder of experiments> --export <dir>` without a run id: the newest run is found
// 4 folders down (`<exp>/runs/<job>/<run>`), as the viewer finds it (issue 34).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunWriter } from '@atmanrl/runs/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir } from './helpers.js';

describe('atmanrl view --export in a folder of experiments', () => {
  it('exports the newest run, 4 folders deep', async () => {
    const root = tempDir();
    for (const [job, id] of [
      ['A-s0', 'r-old'],
      ['B-s0', 'r-new'],
    ] as const) {
      const w = RunWriter.create({
        runsDir: join(root, 'exp', 'runs', job),
        id,
        command: 'train',
        config: {},
        seed: 0,
        backend: { name: 'cpu' },
      });
      w.logMetrics(1, { reward: 1 });
      w.setStatus('finished');
      w.close();
      // createdAt has millisecond resolution: keep the two runs apart in time.
      await new Promise((r) => setTimeout(r, 5));
    }
    const outDir = join(tempDir(), 'bundle');
    const { io, out } = captureIO();
    expect(await runCli(['view', root, '--export', outDir], io, COMMANDS)).toBe(0);
    expect(out.join('\n')).toContain('exported run exp/runs/B-s0/r-new');
    expect(existsSync(join(outDir, 'index.html'))).toBe(true);
    expect(readFileSync(join(outDir, 'data.js'), 'utf8')).toContain('r-new');
  });
});

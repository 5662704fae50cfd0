import { cpSync, readFileSync, writeFileSync, truncateSync, rmSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { runCli } from '../src/cli-core.js';
import { COMMANDS } from '../src/commands/index.js';
import { captureIO, tempDir, tinyModelDir } from './helpers.js';
it('probe', async () => {
  const base = await tinyModelDir();
  const cases: [string, (d: string) => void][] = [
    ['config not json', (d) => writeFileSync(join(d, 'config.json'), '{')],
    ['config empty obj', (d) => writeFileSync(join(d, 'config.json'), '{}')],
    ['config array', (d) => writeFileSync(join(d, 'config.json'), '[]')],
    ['config neg hidden', (d) => { const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')); c.hidden_size = -1; writeFileSync(join(d, 'config.json'), JSON.stringify(c)); }],
    ['config heads mismatch', (d) => { const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')); c.num_attention_heads = 3; writeFileSync(join(d, 'config.json'), JSON.stringify(c)); }],
    ['tokenizer not json', (d) => writeFileSync(join(d, 'tokenizer.json'), '{')],
    ['tokenizer empty', (d) => writeFileSync(join(d, 'tokenizer.json'), '{}')],
    ['tokenizer_config not json', (d) => writeFileSync(join(d, 'tokenizer_config.json'), '{')],
    ['tokenizer_config null', (d) => writeFileSync(join(d, 'tokenizer_config.json'), 'null')],
    ['st empty', (d) => writeFileSync(join(d, 'model.safetensors'), '')],
    ['st truncated', (d) => truncateSync(join(d, 'model.safetensors'), 200)],
    ['st huge header', (d) => writeFileSync(join(d, 'model.safetensors'), Buffer.from([255,255,255,255,0,0,0,0]))],
    ['st header garbage', (d) => { const b = Buffer.alloc(20); b.writeUInt32LE(12, 0); b.write('not json!!!!', 8); writeFileSync(join(d, 'model.safetensors'), b); }],
    ['st extra bytes', (d) => appendFileSync(join(d, 'model.safetensors'), 'xxxx')],
    ['index bad', (d) => { rmSync(join(d, 'model.safetensors')); writeFileSync(join(d, 'model.safetensors.index.json'), '{'); }],
    ['index missing shard', (d) => { rmSync(join(d, 'model.safetensors')); writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'model.norm.weight': 'x.safetensors' } })); }],
  ];
  const lines: string[] = [];
  for (const [name, mutate] of cases) {
    const d = tempDir('probe-');
    cpSync(base, d, { recursive: true });
    mutate(d);
    const { io, err } = captureIO();
    const code = await runCli(['eval', '--model', d, '--backend', 'cpu', '--runs-dir', tempDir(), '--eval-limit', '1'], io, COMMANDS);
    lines.push(`RESULT ${code} ${name}: ${err.join(' ').slice(0, 200).replace(/\n/g, ' ')}`);
  }
  writeFileSync('/tmp/helperB/probe.txt', lines.join('\n'));
});

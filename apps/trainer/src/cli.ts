#!/usr/bin/env node
// The `atmanrl` executable: wires process argv/stdout/stderr to the dispatcher.
import { runCli } from './cli-core.js';
import { COMMANDS } from './commands/index.js';

// A closed terminal (SIGHUP, `| head`) must not kill a run mid-checkpoint: drop output instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'EIO') throw e;
  });
}

const tty = Boolean(process.stderr.isTTY);
let statusShown = false;
const code = await runCli(
  process.argv.slice(2),
  {
    out: (line) => {
      if (statusShown) process.stderr.write('\r\x1b[2K');
      statusShown = false;
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      if (statusShown) process.stderr.write('\r\x1b[2K');
      statusShown = false;
      process.stderr.write(`${line}\n`);
    },
    isTTY: tty,
    status: tty
      ? (text) => {
          process.stderr.write(`\r\x1b[2K${text}`);
          statusShown = text.length > 0;
        }
      : undefined,
  },
  COMMANDS,
);
process.exitCode = code;

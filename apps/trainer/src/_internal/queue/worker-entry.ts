// Standalone entry of a queue worker process (tests, benchmark, `node …/queue-worker.js`):
// the flags of `atmanrl worker`, status lines on stdout, exit 1 on a bad option.
import { parseWorkerArgs, runQueueWorker } from './main.js';

const log = (line: string) => process.stdout.write(`${line}\n`);
let options: ReturnType<typeof parseWorkerArgs>;
try {
  options = parseWorkerArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`atmanrl worker: ${(e as Error).message}\n`);
  process.exit(1);
}
runQueueWorker(options, log).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`atmanrl worker: ${(e as Error).message}\n`);
    process.exit(1);
  },
);

// Fixture and shared-data locations for tests.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(pkg, 'test', 'fixtures');
/** shared/data: env ATMANRL_SHARED_DATA, else ../../../shared/data relative to the package. */
export const SHARED_DATA =
  process.env.ATMANRL_SHARED_DATA ?? resolve(pkg, '..', '..', '..', 'shared', 'data');
export const HAS_SHARED_DATA = existsSync(join(SHARED_DATA, 'gsm8k', 'test.jsonl'));

import { vitestPreset } from '@atmanrl/tooling/vitest';
import { defineConfig } from 'vitest/config';

// e2e pages load several runs; on a loaded 2-core CI machine that can take seconds, so polls
// wait up to 10 s (a failing expectation still fails, only later).
export default defineConfig(vitestPreset('viewer', { expect: { poll: { timeout: 10_000 } } }));

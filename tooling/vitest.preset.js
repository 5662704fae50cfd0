// Shared vitest preset: node environment, JSON results collected for the CI summary line.
import { resolve } from 'node:path';

/**
 * @param {string} name  package name used for the results file
 * @param {import('vitest/config').ViteUserConfig['test']} [test] overrides
 */
export function vitestPreset(name, test = {}) {
  const safe = name.replace(/[^a-z0-9]+/gi, '_');
  return {
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      reporters: ['default', 'json'],
      // Each package keeps its own report (a turbo output of its test task); CI sums them.
      outputFile: { json: resolve(process.cwd(), '.test-results', `${safe}.json`) },
      ...test,
    },
  };
}

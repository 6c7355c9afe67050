import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Real services a project's tests talk to; a test reads the address with `inject('KAFKA_BROKERS')`. */
export type TestService = 'kafka' | 'ferretdb';

/**
 * One Vitest configuration for every project: each run also writes a JSON report to
 * `tmp/test-results/<project name>.json` (the Nx output of the test target), which
 * `tools/test.mjs` sums into the closing totals line.
 */
export function projectTestConfig(projectDir: string, options: { services?: TestService[] } = {}) {
  const { name } = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { name: string };
  return defineConfig({
    test: {
      // Each service's setup reuses the address in the environment, or starts one for this run.
      globalSetup: (options.services ?? []).map((s) => resolve(import.meta.dirname, 'tools/services', `${s}.setup.mjs`)),
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: resolve(import.meta.dirname, 'tmp/test-results', `${name}.json`) },
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  });
}

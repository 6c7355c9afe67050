import { basename, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * One Vitest configuration for every project: each run also writes a JSON report under
 * `tmp/test-results/<project>.json`, which `tools/test.mjs` sums into the closing totals line.
 */
export function projectTestConfig(projectDir: string) {
  const name = basename(projectDir);
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: resolve(projectDir, '../../tmp/test-results', `${name}.json`) },
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  });
}

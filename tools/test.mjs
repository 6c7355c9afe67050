#!/usr/bin/env node
// Runs every project's tests (and lint) through Nx, then prints one totals line over all suites,
// `N passed, N failed[, N skipped]`, from the JSON reports Vitest writes per project.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const resultsDir = join(root, 'tmp', 'test-results');
const extra = process.argv.slice(2);

rmSync(resultsDir, { recursive: true, force: true });
const run = spawnSync(
  'npx',
  ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', '--outputStyle=stream', ...extra],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
if (existsSync(resultsDir)) {
  const files = readdirSync(resultsDir, { recursive: true }).filter((f) => String(f).endsWith('.json'));
  for (const file of files) {
    const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
    reports += 1;
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A suite that failed to load counts no tests; count it as a failure so it cannot hide.
    for (const suite of report.testResults ?? []) {
      if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
    }
  }
}
console.log(`\n${reports} test reports`);
console.log(`Totals: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
const code = run.status ?? 1;
process.exit(code !== 0 ? code : failed > 0 || passed === 0 ? 1 : 0);

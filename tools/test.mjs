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

// The real services the integration tests use: the given addresses, or one local instance of
// each for the whole run (projects would otherwise each start their own).
const services = [
  ['KAFKA_BROKERS', 'kafka.mjs', 'useKafka', 'brokers'],
  ['MONGODB_URI', 'ferretdb.mjs', 'useFerretDb', 'uri'],
];
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const started = [];
for (const [variable, file, use, field] of services) {
  if (env[variable] || !existsSync(join(root, 'tools/services', file))) continue;
  const module = await import(new URL(`./services/${file}`, import.meta.url).href);
  const service = await module[use]();
  env[variable] = service[field];
  started.push(service);
  console.log(`${variable}=${env[variable]} (started for this run)`);
}
let run;
try {
  run = spawnSync('npx', ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', '--outputStyle=stream', ...extra], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
} finally {
  for (const service of started) await service.stop();
}

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

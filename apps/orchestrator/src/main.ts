// The orchestrator service: `node --import tsx apps/orchestrator/src/main.ts` (environment in the README).
import { loadDataset, profileDataset } from '@apo/ml';
import { serveStage } from '@apo/platform';
import { z } from 'zod';
import { iterationDag } from './dag.ts';
import { ORCHESTRATOR_IDEMPOTENT, orchestratorHandlers, orchestratorSweep, type OrchestratorDeps } from './handler.ts';

// An empty variable counts as unset, as `docker compose` passes `VAR=` through.
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const seconds = z.preprocess(unsetIfEmpty, z.coerce.number().positive().optional());

const orchestratorEnv = {
  // Dataset paths in start messages resolve inside DATA_ROOT; anything outside is refused.
  DATA_ROOT: z.string().min(1).default(process.cwd()),
  // What `auto` becomes. The orchestrator never needs the LLM's key, so it is told instead:
  // docker-compose.yml sets `llm` when ANTHROPIC_API_KEY is set for the llm service.
  AUTO_STRATEGY: z.preprocess(unsetIfEmpty, z.enum(['llm', 'tpe']).default('tpe')),
  // How long each step waits for its reply before its command is sent again (defaults in dag.ts).
  CONFIGURE_TIMEOUT_SECONDS: seconds,
  BUILD_TIMEOUT_SECONDS: seconds,
  PREPARE_TIMEOUT_SECONDS: seconds,
  TRAIN_TIMEOUT_SECONDS: seconds,
  STEP_RETRIES: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(10).optional()),
  // How often overdue steps are looked for (also once at start-up: restart recovery).
  SWEEP_INTERVAL_SECONDS: z.coerce.number().positive().default(5),
};

let built: OrchestratorDeps | undefined;

await serveStage({
  stage: 'orchestrator',
  processEnv: process.env,
  env: orchestratorEnv,
  handlers: ({ store, env }) => orchestratorHandlers(depsOnce(store, env)),
  idempotent: ORCHESTRATOR_IDEMPOTENT,
  periodic: ({ store, env }) => ({ task: orchestratorSweep(depsOnce(store, env)), everyMs: env.SWEEP_INTERVAL_SECONDS * 1000 }),
});

/** One deps object for the handlers and the sweep, so they share one engine. */
function depsOnce(...args: Parameters<typeof deps>): OrchestratorDeps {
  return (built ??= deps(...args));
}

function deps(
  store: OrchestratorDeps['store'],
  env: z.output<z.ZodObject<typeof orchestratorEnv>>,
): OrchestratorDeps {
  const step = (s: number | undefined) => ({
  ...(s === undefined ? {} : { timeoutMs: s * 1000 }),
  ...(env.STEP_RETRIES === undefined ? {} : { retries: env.STEP_RETRIES }),
  });
  return {
  store,
  autoStrategy: env.AUTO_STRATEGY,
  dag: iterationDag({
    configure: step(env.CONFIGURE_TIMEOUT_SECONDS),
    build: step(env.BUILD_TIMEOUT_SECONDS),
    prepare: step(env.PREPARE_TIMEOUT_SECONDS),
    train: step(env.TRAIN_TIMEOUT_SECONDS),
  }),
  profileDataset: async (dataset, { task }) => profileDataset(await loadDataset(dataset, { dataRoot: env.DATA_ROOT }), { task }),
  };
}

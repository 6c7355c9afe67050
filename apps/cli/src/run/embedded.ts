import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LocalDirArtifactStore } from '@apo/artifacts';
import { buildModelHandlers } from '@apo/build-model';
import { InMemoryBus } from '@apo/bus';
import { CONFIG_IDEMPOTENT, configHandlers } from '@apo/config';
import { LLM_IDEMPOTENT, llmHandlers } from '@apo/llm';
import type { MessageType, StageName } from '@apo/messages';
import { loadDataset, profileDataset, selectBackend, type BackendName, type SelectedBackend } from '@apo/ml';
import { ORCHESTRATOR_IDEMPOTENT, orchestratorHandlers, orchestratorSweep, type OrchestratorDeps } from '@apo/orchestrator';
import { predictHandlers, type TrainingProgress } from '@apo/predict';
import { prepareFeaturesHandlers } from '@apo/prepare-features';
import { AnthropicProposer, RandomProposer, TpeProposer, type AnthropicProposerOptions, type Proposer } from '@apo/proposers';
import { runPeriodic, runStage, type Logger, type StageHandlers } from '@apo/runtime';
import { SqliteStore } from '@apo/store';
import type { Bus, Subscription } from '@apo/bus';
import type { Store } from '@apo/store';

export interface EmbeddedOptions {
  /** Holds `store.sqlite` and `artifacts/`. */
  dataDir: string;
  /** Dataset paths resolve inside this directory. */
  dataRoot: string;
  logger: Logger;
  backend?: BackendName;
  onEpoch?: (progress: TrainingProgress) => void;
  /** Another bus or store instead of the in-memory bus and `store.sqlite` (benchmarks, tests); closed with the rest. */
  bus?: Bus;
  store?: Store;
  /** Replaces the default offline proposers by strategy (benchmarks narrow their search space). */
  proposers?: { tpe?: Proposer; random?: Proposer };
  /** The LLM (from ANTHROPIC_* in the CLI's main.ts); without it `llm` and `hybrid` fall back to TPE and `auto` means `tpe`. */
  llm?: AnthropicProposerOptions | null;
}

/** Every stage of the pipeline in this process: the in-memory bus, SQLite, a local artifact directory. */
export interface Embedded {
  bus: Bus;
  store: Store;
  artifacts: LocalDirArtifactStore;
  backend: () => Promise<SelectedBackend>;
  close(): Promise<void>;
}

const SWEEP_EVERY_MS = 5_000;

/** Composition root of `apo run`: the same stage handlers the services run, on embedded parts. */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const bus = options.bus ?? new InMemoryBus();
  const store = options.store ?? SqliteStore.open({ dataDir });
  const artifacts = new LocalDirArtifactStore({ dir: join(dataDir, 'artifacts') });
  let backend: Promise<SelectedBackend> | undefined;
  const ready = () => (backend ??= selectBackend(options.backend ? { prefer: options.backend } : {}));
  const dataRoot = resolve(options.dataRoot);
  const tpe = options.proposers?.tpe ?? new TpeProposer();
  const proposers = {
    tpe,
    random: options.proposers?.random ?? new RandomProposer(),
    ...(options.llm ? { llm: new AnthropicProposer({ ...options.llm, fallback: tpe }) } : {}),
  };

  const orchestrator: OrchestratorDeps = {
    store,
    autoStrategy: options.llm ? 'llm' : 'tpe',
    profileDataset: async (dataset, { task }) => profileDataset(await loadDataset(dataset, { dataRoot }), { task }),
  };
  const stages: [StageName, StageHandlers, (readonly MessageType[])?][] = [
    ['orchestrator', orchestratorHandlers(orchestrator), ORCHESTRATOR_IDEMPOTENT],
    ['config', configHandlers({ store }), CONFIG_IDEMPOTENT],
    ['llm', llmHandlers({ store, proposers }), LLM_IDEMPOTENT],
    ['build-model', buildModelHandlers({ artifacts, ready })],
    ['prepare-features', prepareFeaturesHandlers({ artifacts, dataRoot })],
    ['predict', predictHandlers({ artifacts, store, ready, ...(options.onEpoch ? { onEpoch: options.onEpoch } : {}) })],
  ];
  const subscriptions: Subscription[] = [];
  for (const [stage, handlers, idempotent] of stages) {
    subscriptions.push(
      await runStage({
        stage,
        bus,
        processed: store,
        handlers,
        logger: options.logger,
        ...(idempotent ? { idempotent } : {}),
        // The orchestrator's replies may race on one pipeline record; conflicts retry on fresh state.
        ...(stage === 'orchestrator' ? { maxAttempts: 10, retryBackoffMs: 5 } : {}),
      }),
    );
  }
  // Steps whose reply is overdue are sent again, then fail their trial, as in the service. Only
  // pipelines started by this process: one left running by an interrupted `apo run` has no one
  // waiting for it, and must not take the machine from this run.
  const since = new Date().toISOString();
  const sweep = runPeriodic({
    task: orchestratorSweep(orchestrator, { include: (p) => p.createdAt >= since }),
    everyMs: SWEEP_EVERY_MS,
    bus,
    logger: options.logger,
  });
  await sweep.started;
  return {
    bus,
    store,
    artifacts,
    backend: ready,
    async close() {
      await sweep.close();
      for (const s of subscriptions) await s.close();
      await bus.close();
      await store.close();
      await artifacts.close();
    },
  };
}

import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  ALL_TOPICS,
  InvalidMessageError,
  Topics,
  parseMessage,
  parseStartMessage,
  type AnyMessage,
  type PipelineFinished,
  type PipelineOutcome,
} from '@apo/messages';
import type { BackendName } from '@apo/ml';
import type { AnthropicProposerOptions } from '@apo/proposers';
import { createLogger } from '@apo/runtime';
import type { Io } from '../program.ts';
import { startEmbedded } from './embedded.ts';
import { epochBar, progressLine } from './progress.ts';
import { finishedSummary, iterationTable } from './report.ts';

export interface RunOptions {
  dataset: string;
  kpi: string;
  target?: string;
  task?: string;
  strategy?: string;
  maxIterations?: number;
  maxMinutes?: number;
  parallelism?: number;
  seed?: number;
  dataDir: string;
  dataRoot: string;
  backend?: BackendName;
  json?: boolean;
  logLevel: string;
  /** Whether the output is a terminal (live epoch bar) or a pipe (plain lines). */
  tty: boolean;
}

/**
 * What `apo run` gets from the process beyond `Io`: the LLM settings `main.ts` parsed from
 * ANTHROPIC_*. `main.ts` passes them on the same object as its `Io`, and tests pass their own.
 */
export interface RunIo extends Io {
  llm?: AnthropicProposerOptions | null;
}

/** Exit codes of `apo run`: scripts can tell a met KPI from a spent budget from bad input. */
export const EXIT = { succeeded: 0, failed: 1, badInput: 2, budgetExhausted: 3, cancelled: 4 } as const;

/** The exit code of a finished pipeline; a failure before any iteration was refused input. */
export function exitCodeOf(outcome: PipelineOutcome, iterationsUsed: number): number {
  if (outcome === 'succeeded') return EXIT.succeeded;
  if (outcome === 'budget_exhausted') return EXIT.budgetExhausted;
  if (outcome === 'cancelled') return EXIT.cancelled;
  return iterationsUsed === 0 ? EXIT.badInput : EXIT.failed;
}

/** `apo run`: every stage in this process until the pipeline finishes. */
export async function runPipeline(options: RunOptions, io: RunIo): Promise<number> {
  const requestId = `apo-run-${randomUUID()}`;
  let start;
  try {
    start = parseStartMessage({
      requestId,
      kpi: options.kpi,
      dataset: { uri: options.dataset, ...(options.target ? { target: options.target } : {}) },
      budget: {
        ...(options.maxIterations !== undefined ? { maxIterations: options.maxIterations } : {}),
        ...(options.maxMinutes !== undefined ? { maxMinutes: options.maxMinutes } : {}),
      },
      ...(options.strategy ? { strategy: options.strategy } : {}),
      ...(options.task ? { task: options.task } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
    });
  } catch (err) {
    if (!(err instanceof InvalidMessageError)) throw err;
    io.err(`${err.message}\n`);
    return EXIT.badInput;
  }

  if ((start.strategy === 'llm' || start.strategy === 'hybrid') && !io.llm) {
    // The llm stage logs this too, but below the default log level; say it once, plainly.
    io.err(`warning: ANTHROPIC_API_KEY is not set, so --strategy ${start.strategy} proposes with tpe\n`);
  }

  // Stage logs go to stderr as JSON (or nowhere below the chosen level); progress goes to stdout.
  const logger = createLogger({
    name: 'apo',
    level: options.logLevel,
    pretty: false,
    destination: new Writable({ write: (chunk, _enc, done) => (io.err(String(chunk)), done()) }),
  });
  let barShown = false;
  const clearBar = () => {
    if (barShown) io.out('\r\x1b[K');
    barShown = false;
  };
  const embedded = await startEmbedded({
    dataDir: options.dataDir,
    dataRoot: options.dataRoot,
    logger,
    llm: io.llm ?? null,
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.tty
      ? {
          onEpoch: (p) => {
            io.out(`\r\x1b[K${epochBar(p)}`);
            barShown = true;
          },
        }
      : {}),
  });
  try {
    const backend = await embedded.backend();
    if (!options.json) io.out(`backend: ${backend.name}${backend.name === 'wasm' ? ` (simd ${backend.simd ? 'on' : 'off'})` : ''}\n`);
    let pipelineId: string | null = null;
    const finished = new Promise<PipelineFinished>((resolve) => {
      void embedded.bus.subscribe({
        groupId: `apo-run-${requestId}`,
        topics: ALL_TOPICS.filter((t) => t !== Topics.workflow && t !== Topics.deadLetter),
        handler: async (record) => {
          let message: AnyMessage;
          try {
            message = parseMessage(record.value);
          } catch {
            return;
          }
          if (message.type === 'PIPELINE_FINISHED' && message.payload.requestId === requestId) {
            pipelineId = message.pipelineId;
            resolve(message.payload);
            return;
          }
          const pipeline = await embedded.store.getPipeline(message.pipelineId);
          if (pipeline?.requestId !== requestId) return;
          pipelineId = message.pipelineId;
          const line = progressLine(message, start.kpi.metric);
          if (line && !options.json) {
            clearBar();
            io.out(`${line}\n`);
          }
        },
      });
    });
    await embedded.bus.publish(Topics.workflow, [{ key: requestId, value: JSON.stringify(start), headers: { type: start.type } }]);
    const result = await finished;
    clearBar();
    const configurations = pipelineId ? await embedded.store.listConfigurations({ pipelineId }) : [];
    const results = pipelineId ? await embedded.store.listResults({ pipelineId }) : [];
    if (options.json) {
      io.out(`${JSON.stringify({ pipelineId, ...result, configurations, results })}\n`);
    } else {
      if (configurations.length) io.out(`\n${iterationTable(start.kpi.metric, configurations, results)}\n`);
      io.out(`\npipeline ${pipelineId}\n${finishedSummary(result)}\n`);
    }
    return exitCodeOf(result.outcome, result.iterationsUsed);
  } finally {
    await embedded.close();
  }
}

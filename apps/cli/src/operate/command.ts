import { randomUUID } from 'node:crypto';
import { KafkaBus } from '@apo/bus';
import { InvalidMessageError, METRICS, START_TYPE, Topics, createMessage, parseStartMessage } from '@apo/messages';
import type { PipelineRecord, Store } from '@apo/store';
import type { Command } from 'commander';
import type { Io } from '../program.ts';
import { EXIT, exitCodeOf } from '../run/command.ts';
import { formatMetric, iterationTable } from '../run/report.ts';
import { withStore as storeWork, type StoreOptions } from '../store-options.ts';
import { textTable } from '../text-table.ts';

/** Defaults an operator's environment gives (parsed in main.ts): where the services' Kafka and MongoDB are. */
export interface OperatorDefaults {
  kafkaBrokers?: string[];
  mongodbUri?: string;
}

const kpiText = (p: PipelineRecord) => `${p.kpi.metric}${METRICS[p.kpi.metric].direction === 'maximize' ? '>=' : '<='}${p.kpi.target}`;
const state = (p: PipelineRecord) => (p.status === 'finished' ? (p.outcome ?? 'finished') : `running: ${p.step}`);
const bestText = (p: PipelineRecord) => (p.best ? `${formatMetric(p.best.validation[p.kpi.metric])} (iteration ${p.best.iteration})` : '-');

/** The exit code `apo run` would have ended this pipeline with; null while it runs. */
function exitOf(p: PipelineRecord): number | null {
  return p.status === 'finished' ? exitCodeOf(p.outcome ?? 'failed', p.iteration) : null;
}

/** A pipeline by its id or by the request id it was started with (what `apo start` prints). */
async function findPipeline(store: Store, idOrRequestId: string): Promise<PipelineRecord | null> {
  return (await store.getPipeline(idOrRequestId)) ?? (await store.findPipelineByRequestId(idOrRequestId));
}

function statusText(p: PipelineRecord): string {
  const lines = [
    `pipeline ${p.id}${p.schedule ? ` (schedule ${p.schedule})` : ''}`,
    `state: ${state(p)}${p.reason ? `, ${p.reason}` : ''}`,
    `kpi: ${kpiText(p)} on ${p.dataset.uri}, strategy ${p.strategy}`,
    `iteration: ${p.iteration} of at most ${p.budget.maxIterations}`,
    `started: ${p.createdAt}${p.finishedAt ? `, finished ${p.finishedAt}` : ''}`,
  ];
  if (p.llmTokens) lines.push(`llm tokens: ${p.llmTokens.toLocaleString('en-US')}`);
  if (p.best) {
    lines.push(
      `best: iteration ${p.best.iteration}, validation ${p.kpi.metric} ${formatMetric(p.best.validation[p.kpi.metric])}, test ${formatMetric(p.best.test[p.kpi.metric])}`,
      `model: ${p.best.modelUri}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The operator's commands against the running services: `apo start` and `apo cancel` publish on
 * the workflow topic; `apo list`, `apo status` and `apo watch` read the store the orchestrator writes.
 */
export function addOperatorCommands(program: Command, io: Io, defaults: OperatorDefaults = {}): void {
  const exit = (code: number): void => void program.setOptionValue('exitCode', code);
  const storeOption = (cmd: Command) =>
    cmd
      .option('--mongodb-uri <uri>', 'the services\' store (default: MONGODB_URI, else the SQLite store of --data-dir)', defaults.mongodbUri)
      .option('--data-dir <dir>', 'the data directory of `apo run`, when no MongoDB is named', './.apo');
  const withStore = async (options: StoreOptions, work: (store: Store) => Promise<number>) => exit(await storeWork(options, io, work));
  const unknown = (id: string) => {
    io.err(`no pipeline with id or request id "${id}" (apo list shows them)\n`);
    return EXIT.badInput;
  };

  const brokersOf = (opts: { brokers?: string }) => (opts.brokers ?? '127.0.0.1:9092').split(',');
  const publish = async (brokers: string[], key: string, value: string, headers: Record<string, string>) => {
    const bus = new KafkaBus({ brokers, clientId: 'adaptive-pipeline-cli', createTopics: false });
    try {
      await bus.publish(Topics.workflow, [{ key, value, headers }]);
    } finally {
      await bus.close();
    }
  };
  const brokersHelp = 'Kafka bootstrap servers, comma-separated (default: KAFKA_BROKERS, else 127.0.0.1:9092)';

  program
    .command('start')
    .description(`check a start message and publish it on ${Topics.workflow}; prints the request id to follow it by`)
    .argument('<json>', 'the start message, e.g. \'{"kpi":"accuracy>=0.97","dataset":"builtin:iris"}\'')
    .option('--brokers <list>', brokersHelp, defaults.kafkaBrokers?.join(','))
    .action(async (json: string, opts: { brokers?: string }) => {
      let start;
      try {
        start = parseStartMessage(json);
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        io.err(`${err.message}\n`);
        return exit(EXIT.badInput);
      }
      // A request id makes a repeated start (a retried command) one pipeline, and is what
      // `apo status` finds it by before the orchestrator has given it an id.
      const requestId = start.requestId ?? `apo-start-${randomUUID()}`;
      // What the user wrote goes on the topic, not the parsed form with its defaults filled in:
      // the orchestrator applies its own defaults, exactly as for a console-producer start.
      const value = JSON.stringify({ ...(JSON.parse(json) as object), type: START_TYPE, requestId });
      await publish(brokersOf(opts), requestId, value, { type: START_TYPE, id: requestId });
      io.out(`published on ${Topics.workflow}, request id ${requestId}\n`);
      exit(0);
    });

  storeOption(
    program
      .command('list')
      .description('list pipelines, newest first')
      .option('--running', 'only the running ones')
      .option('--limit <n>', 'at most this many (default 20)', Number, 20)
      .option('--json', 'print the pipeline records as JSON'),
  ).action(async (opts: StoreOptions & { running?: boolean; limit: number; json?: boolean }) =>
    withStore(opts, async (store) => {
      const pipelines = await store.listPipelines({ ...(opts.running ? { status: 'running' as const } : {}), limit: opts.limit });
      if (opts.json) io.out(`${JSON.stringify(pipelines, null, 2)}\n`);
      else if (pipelines.length === 0) io.out('no pipelines\n');
      else {
        const rows = pipelines.map((p) => [p.id, state(p), kpiText(p), p.dataset.uri, String(p.iteration), bestText(p), p.createdAt]);
        io.out(textTable([['id', 'state', 'kpi', 'dataset', 'iterations', 'best validation', 'started'], ...rows]));
      }
      return 0;
    }),
  );

  storeOption(
    program
      .command('status')
      .description('one pipeline: state, best so far and every configuration tried; exit code as apo run once finished')
      .argument('<id>', 'pipeline id or request id')
      .option('--json', 'print the pipeline, its configurations and results as JSON'),
  ).action(async (id: string, opts: StoreOptions & { json?: boolean }) =>
    withStore(opts, async (store) => {
      const pipeline = await findPipeline(store, id);
      if (!pipeline) return unknown(id);
      const [configurations, results] = await Promise.all([
        store.listConfigurations({ pipelineId: pipeline.id }),
        store.listResults({ pipelineId: pipeline.id }),
      ]);
      if (opts.json) io.out(`${JSON.stringify({ pipeline, configurations, results }, null, 2)}\n`);
      else io.out(`${statusText(pipeline)}${configurations.length ? `\n${iterationTable(pipeline.kpi.metric, configurations, results)}\n` : ''}`);
      return exitOf(pipeline) ?? 0;
    }),
  );

  storeOption(
    program
      .command('cancel')
      .description('stop a running pipeline: it ends with outcome cancelled and its best model so far; late replies change nothing')
      .argument('<id>', 'pipeline id or request id')
      .option('--reason <text>', 'saved as the pipeline\'s reason', 'cancelled by an operator')
      .option('--brokers <list>', brokersHelp, defaults.kafkaBrokers?.join(',')),
  ).action(async (id: string, opts: StoreOptions & { reason: string; brokers?: string }) =>
    withStore(opts, async (store) => {
      const pipeline = await findPipeline(store, id);
      if (!pipeline) return unknown(id);
      if (pipeline.status === 'finished') {
        io.err(`pipeline ${pipeline.id} already finished (${pipeline.outcome}); nothing to cancel\n`);
        return EXIT.badInput;
      }
      let message;
      try {
        message = createMessage('CANCEL_PIPELINE', { pipelineId: pipeline.id, iteration: pipeline.iteration, payload: { reason: opts.reason } });
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        io.err(`${err.message.replace('invalid CANCEL_PIPELINE message: payload.', '--')}\n`);
        return EXIT.badInput;
      }
      // Keyed by pipeline id, like every message of a pipeline: the orchestrator sees it in order.
      await publish(brokersOf(opts), pipeline.id, JSON.stringify(message), { type: message.type, id: message.id });
      io.out(`cancel of pipeline ${pipeline.id} published; apo watch ${pipeline.id} shows its end\n`);
      return 0;
    }),
  );

  storeOption(
    program
      .command('watch')
      .description('follow a pipeline until it finishes: a line per step and per result; exit code as apo run')
      .argument('<id>', 'pipeline id or request id')
      .option('--interval <ms>', 'how often the store is read (default 1000)', Number, 1000),
  ).action(async (id: string, opts: StoreOptions & { interval: number }) =>
    withStore(opts, async (store) => {
      // The notifications topic carries only PIPELINE_FINISHED, and the store has that too with
      // every step before it, so watching is reading the store; a start not yet picked up by the
      // orchestrator is waited for.
      let seenStep = '';
      const seenResults = new Set<string>();
      let waitingSaid = false;
      for (;;) {
        const pipeline = await findPipeline(store, id);
        if (!pipeline && !waitingSaid) io.out(`waiting for the orchestrator to start ${id}\n`);
        waitingSaid = true;
        if (pipeline) {
          const step = `iteration ${pipeline.iteration}: ${pipeline.step}`;
          if (pipeline.status === 'running' && step !== seenStep) io.out(`${step}\n`);
          seenStep = step;
          const results = await store.listResults({ pipelineId: pipeline.id });
          for (const r of results.sort((a, b) => a.iteration - b.iteration)) {
            if (seenResults.has(r.configurationId)) continue;
            seenResults.add(r.configurationId);
            const metric = pipeline.kpi.metric;
            io.out(r.status === 'failed'
              ? `iteration ${r.iteration}: failed: ${r.error?.message ?? 'no reason given'}\n`
              : `iteration ${r.iteration}: validation ${metric} ${formatMetric(r.validation?.[metric])}, test ${formatMetric(r.test?.[metric])}\n`);
          }
          const code = exitOf(pipeline);
          if (code !== null) {
            io.out(`\n${statusText(pipeline)}`);
            return code;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, opts.interval));
      }
    }),
  );
}

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runPipeline } from './run/command.ts';
import { addOperatorCommands, type OperatorDefaults } from './operate/command.ts';
import { addScheduleCommand } from './schedule/command.ts';
import {
  Catalog,
  InvalidMessageError,
  MESSAGE_TYPES,
  METRICS,
  START_TYPE,
  Topics,
  parseStartMessage,
} from '@apo/messages';

/** Where the commands write; tests pass buffers. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether `out` is a terminal: live bars there, plain lines in a pipe. */
  tty?: boolean;
  cwd?: string;
  /** KAFKA_BROKERS and MONGODB_URI of the operator's environment: defaults of start, list, status, watch. */
  services?: OperatorDefaults;
}

/** The `apo` command line. Each command returns its exit code through `exitCode`. */
export function buildProgram(io: Io): Command {
  const program = new Command('apo')
    .description('Train a neural network until it reaches the KPI you ask for.')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  program
    .command('check')
    .description('check a start message (what you would send to adaptive-pipeline-workflow) and print it with its defaults')
    .argument('<json>', 'the start message, e.g. \'{"kpi":"accuracy>=0.97","dataset":"builtin:iris"}\'')
    .action((json: string) => {
      try {
        io.out(`${JSON.stringify(parseStartMessage(json), null, 2)}\n`);
      } catch (err) {
        if (!(err instanceof InvalidMessageError)) throw err;
        io.err(`${err.message}\n`);
        program.setOptionValue('exitCode', 2);
      }
    });

  const integer = (name: string) => (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number (got "${value}")`);
    return n;
  };
  program
    .command('run')
    .description('run every stage in this process until the KPI is met or the budget is spent')
    .requiredOption('--dataset <uri>', 'builtin:iris | builtin:wine | builtin:breast-cancer | builtin:diabetes | a CSV path')
    .requiredOption('--kpi <kpi>', 'e.g. "accuracy>=0.97", "rmse<=55"')
    .option('--target <column>', 'target column (default: the last one)')
    .option('--task <task>', 'classification or regression (default: from the KPI)')
    .addOption(new Option('--strategy <strategy>', 'how configurations are proposed (auto: llm when ANTHROPIC_API_KEY is set, else tpe)').choices(['auto', 'llm', 'tpe', 'random', 'hybrid']))
    .option('--max-iterations <n>', 'configurations to try at most (default 20)', integer('--max-iterations'))
    .option('--max-minutes <n>', 'wall-clock budget in minutes', Number)
    .option('--parallelism <n>', 'trials at once, each its own configuration (default 1; helps most while an LLM is thinking)', integer('--parallelism'))
    .option('--seed <n>', 'seed of the split and of every training (default 42)', integer('--seed'))
    .option('--data-dir <dir>', 'where the store and the artifacts live', './.apo')
    .option('--data-root <dir>', 'dataset paths must lie inside this directory (default: the current one)')
    .addOption(new Option('--backend <name>', 'training backend (default: the best available)').choices(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']))
    .option('--json', 'print one JSON document at the end instead of progress and a table')
    .option('--log-level <level>', 'stage logs on stderr: silent, error, warn, info, debug', 'error')
    .action(async (opts) => {
      const code = await runPipeline(
        { ...opts, dataRoot: opts.dataRoot ?? io.cwd ?? process.cwd(), tty: io.tty ?? false },
        io,
      );
      program.setOptionValue('exitCode', code);
    });

  program
    .command('topics')
    .description('list the Kafka topics and the message types each carries')
    .action(() => {
      const rows: [string, string][] = [[Topics.workflow, START_TYPE]];
      for (const type of MESSAGE_TYPES) {
        for (const topic of Catalog[type].topics) rows.push([topic, type]);
      }
      rows.push([Topics.deadLetter, 'the original record + reason']);
      const width = Math.max(...rows.map(([t]) => t.length));
      const byTopic = new Map<string, string[]>();
      for (const [topic, type] of rows) byTopic.set(topic, [...(byTopic.get(topic) ?? []), type]);
      for (const [topic, types] of byTopic) io.out(`${topic.padEnd(width)}  ${types.join(', ')}\n`);
    });

  program
    .command('metrics')
    .description('list the metrics a KPI can name')
    .action(() => {
      for (const [name, m] of Object.entries(METRICS)) {
        io.out(`${name.padEnd(9)} ${m.task.padEnd(15)} ${m.direction === 'maximize' ? `${name}>=target` : `${name}<=target`}\n`);
      }
    });

  addScheduleCommand(program, io);
  addOperatorCommands(program, io, io.services);

  return program;
}

/** Runs the command line and returns the process exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  const code: unknown = program.getOptionValue('exitCode');
  return typeof code === 'number' ? code : 0;
}

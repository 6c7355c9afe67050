import { InvalidScheduleError, defineSchedule, resumeChanges } from '@apo/scheduler';
import type { ScheduleRecord, Store } from '@apo/store';
import type { Command } from 'commander';
import type { Io } from '../program.ts';
import { EXIT } from '../run/command.ts';
import { withStore as storeWork, type StoreOptions } from '../store-options.ts';
import { textTable } from '../text-table.ts';

/** Exit code of a refused request (bad input, unknown name), as `apo check` and `apo run` use. */
const BAD_INPUT = EXIT.badInput;

function describe(s: ScheduleRecord): string[] {
  return [s.name, s.cron, s.timezone ?? 'UTC', s.enabled ? 'active' : 'paused', s.enabled ? (s.nextRunAt ?? '-') : '-', s.lastTickAt ?? '-'];
}

/**
 * `apo schedule add|list|remove|pause|resume`: the cron schedules the scheduler service starts
 * pipelines from. Input is checked completely before the store is opened, so a refusal writes nothing.
 */
export function addScheduleCommand(program: Command, io: Io): void {
  const exit = (code: number): void => void program.setOptionValue('exitCode', code);
  // Every subcommand opens the store, does one thing, and closes it; refusals are exit 2 with the reason.
  const withStore = (work: (store: Store) => Promise<number>) => async (options: StoreOptions) => exit(await storeWork(options, io, work));
  const noSuchSchedule = (name: string) => {
    io.err(`no schedule named "${name}" (apo schedule list shows them)\n`);
    return BAD_INPUT;
  };

  const schedule = program
    .command('schedule')
    .description('cron schedules that start pipelines (run by the scheduler service)')
    .configureHelp({ showGlobalOptions: true })
    .option('--data-dir <dir>', 'the data directory whose SQLite store holds the schedules', './.apo')
    .option('--mongodb-uri <uri>', 'keep the schedules in this MongoDB instead (what the services use)');

  schedule
    .command('add')
    .description('add a schedule, or replace one with --replace')
    .argument('<name>', 'letters, digits, ".", "_" or "-"; each start carries it as "schedule"')
    .requiredOption('--cron <expression>', 'five fields: minute hour day month weekday, e.g. "0 2 * * *"')
    .requiredOption('--start <json>', 'the start message sent on each tick, e.g. \'{"kpi":"accuracy>=0.97","dataset":"builtin:iris"}\'')
    .option('--timezone <zone>', 'IANA time zone the cron expression is read in (default UTC)')
    .option('--replace', 'replace a schedule of the same name')
    .action(async (name: string, opts: { cron: string; start: string; timezone?: string; replace?: boolean }, cmd: Command) => {
      let record;
      try {
        record = defineSchedule({ name, cron: opts.cron, timezone: opts.timezone ?? null, start: opts.start }, new Date());
      } catch (err) {
        if (!(err instanceof InvalidScheduleError)) throw err;
        io.err(`${err.message}\n`);
        return exit(BAD_INPUT);
      }
      await withStore(async (store) => {
        if (!opts.replace && (await store.getSchedule(name))) {
          io.err(`schedule "${name}" exists; pass --replace to replace it\n`);
          return BAD_INPUT;
        }
        const saved = await store.putSchedule(record);
        io.out(`schedule ${saved.name}: "${saved.cron}" (${saved.timezone ?? 'UTC'}), next run ${saved.nextRunAt}\n`);
        return 0;
      })(cmd.optsWithGlobals());
    });

  schedule
    .command('list')
    .description('list the schedules with their next run')
    .option('--json', 'print the schedule records as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) =>
      withStore(async (store) => {
        const all = await store.listSchedules();
        if (opts.json) io.out(`${JSON.stringify(all, null, 2)}\n`);
        else if (all.length === 0) io.out('no schedules\n');
        else io.out(textTable([['name', 'cron', 'timezone', 'state', 'next run', 'last tick'], ...all.map(describe)]));
        return 0;
      })(cmd.optsWithGlobals()),
    );

  schedule
    .command('remove')
    .description('delete a schedule')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      withStore(async (store) => {
        if (!(await store.deleteSchedule(name))) return noSuchSchedule(name);
        io.out(`schedule ${name} removed\n`);
        return 0;
      })(cmd.optsWithGlobals()),
    );

  schedule
    .command('pause')
    .description('stop starting pipelines from a schedule until it is resumed')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      withStore(async (store) => {
        if (!(await store.getSchedule(name))) return noSuchSchedule(name);
        await store.updateSchedule(name, { enabled: false });
        io.out(`schedule ${name} paused\n`);
        return 0;
      })(cmd.optsWithGlobals()),
    );

  schedule
    .command('resume')
    .description('start pipelines from a paused schedule again, from its next run after now (missed runs are skipped)')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      withStore(async (store) => {
        const current = await store.getSchedule(name);
        if (!current) return noSuchSchedule(name);
        const saved = await store.updateSchedule(name, resumeChanges(current, new Date()));
        io.out(`schedule ${name} resumed, next run ${saved.nextRunAt ?? 'never'}\n`);
        return 0;
      })(cmd.optsWithGlobals()),
    );
}

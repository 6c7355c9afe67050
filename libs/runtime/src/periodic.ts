import type { AnyMessage } from '@apo/messages';
import type { Bus } from '@apo/bus';
import type { Logger } from 'pino';
import { publishMessages } from './stage.ts';

export interface PeriodicOptions {
  /** What to do each time; the messages it returns are published. */
  task: (logger: Logger) => Promise<AnyMessage[]>;
  everyMs: number;
  bus: Bus;
  logger: Logger;
}

/** A running periodic task. */
export interface Periodic {
  /** Resolves after the first run (so start-up work is done before a service says it is ready). */
  readonly started: Promise<void>;
  /** Stops the timer and waits for a run in progress. */
  close(): Promise<void>;
}

/**
 * Runs `task` at once and then `everyMs` after each run ends, so runs never overlap. A failed run
 * is logged and the next one comes on time: a store or broker outage must not stop the timer.
 */
export function runPeriodic(options: PeriodicOptions): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();

  const once = async () => {
    try {
      const messages = await options.task(options.logger);
      if (messages.length > 0) await publishMessages(options.bus, messages);
    } catch (err) {
      options.logger.error({ err }, 'periodic task failed; will run again');
    }
  };
  const loop = () => {
    current = once().then(() => {
      if (!stopped) timer = setTimeout(loop, options.everyMs);
    });
    return current;
  };
  const started = loop();
  return {
    started,
    async close() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}

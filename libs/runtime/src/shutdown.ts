import type { Logger } from 'pino';

/** The part of `process` shutdown needs; tests pass a fake emitter. */
export interface ShutdownProcess {
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  exit(code: number): void;
}

export interface ShutdownOptions {
  logger: Logger;
  /** Longest wait for the steps before exiting anyway (default 15 s). */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  process?: ShutdownProcess;
}

/**
 * Graceful shutdown: on SIGTERM or SIGINT, runs the registered steps in reverse order of
 * registration (stop consuming before closing the store they write to), then exits 0, or 1 if a
 * step failed or the timeout passed. Returns `register` and `shutdown` for direct use.
 */
export function installShutdown(options: ShutdownOptions) {
  const proc = options.process ?? process;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const steps: { name: string; run: () => Promise<void> }[] = [];
  let running: Promise<number> | null = null;

  const shutdown = (reason: string): Promise<number> => {
    running ??= (async () => {
      options.logger.info({ reason }, 'shutting down');
      let code = 0;
      const all = (async () => {
        for (const step of [...steps].reverse()) {
          try {
            await step.run();
          } catch (err) {
            code = 1;
            options.logger.error({ err, step: step.name }, 'shutdown step failed');
          }
        }
      })();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        code = 1;
        options.logger.error({ timeoutMs }, 'shutdown timed out');
      }
      proc.exit(code);
      return code;
    })();
    return running;
  };

  for (const signal of options.signals ?? (['SIGTERM', 'SIGINT'] as NodeJS.Signals[])) {
    proc.once(signal, () => void shutdown(signal));
  }

  return {
    register(name: string, run: () => Promise<void>) {
      steps.push({ name, run });
    },
    shutdown,
  };
}

import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Field paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  'ANTHROPIC_API_KEY',
  '*.ANTHROPIC_API_KEY',
  '*.sasl.password',
];

export interface LoggerOptions {
  /** The service name on every line (`orchestrator`, `predict`, `apo`). */
  name: string;
  level?: string;
  /** Human-readable lines; default: only when the destination is a terminal. */
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/** A JSON logger (pino) with secrets redacted; pretty-printed only on a TTY. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** `mongodb://user:secret@host/db` → `mongodb://user:***@host/db`, for logging addresses. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@/]*@/, '$1:***@');
}

/** A logger that writes nothing, for tests and embedded runs that report progress themselves. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

import { anthropicOptionsFrom, LlmEnvSchema } from '@apo/llm';
import { ConfigurationError, parseEnv } from '@apo/runtime';
import { z } from 'zod';
import { run } from './program.ts';
import type { RunIo } from './run/command.ts';

// Where the services are, for apo start/list/status/watch; flags override them.
const ServicesEnv = z.object({
  KAFKA_BROKERS: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).optional()).transform((v) => v?.split(',').map((b) => b.trim())),
  MONGODB_URI: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional()),
});

/** Composition root of the `apo` command: the only place it reads the environment. */
export function main(argv: string[]): Promise<number> {
  let llm;
  let services;
  try {
    // ANTHROPIC_API_KEY and friends (defaults in `LlmEnv`); no key, no LLM.
    llm = anthropicOptionsFrom(parseEnv(LlmEnvSchema, process.env));
    const env = parseEnv(ServicesEnv, process.env);
    services = { ...(env.KAFKA_BROKERS ? { kafkaBrokers: env.KAFKA_BROKERS } : {}), ...(env.MONGODB_URI ? { mongodbUri: env.MONGODB_URI } : {}) };
  } catch (err) {
    if (!(err instanceof ConfigurationError)) throw err;
    process.stderr.write(`apo: ${err.message}\n`);
    return Promise.resolve(2);
  }
  const io: RunIo = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    tty: process.stdout.isTTY === true,
    cwd: process.cwd(),
    llm,
    services,
  };
  return run(argv, io);
}

import { anthropicOptionsFrom, LlmEnvSchema } from '@apo/llm';
import { ConfigurationError, parseEnv } from '@apo/runtime';
import { run } from './program.ts';
import type { RunIo } from './run/command.ts';

/** Composition root of the `apo` command: the only place it reads the environment. */
export function main(argv: string[]): Promise<number> {
  let llm;
  try {
    // ANTHROPIC_API_KEY and friends (defaults in `LlmEnv`); no key, no LLM.
    llm = anthropicOptionsFrom(parseEnv(LlmEnvSchema, process.env));
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
  };
  return run(argv, io);
}

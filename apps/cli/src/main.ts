import { run } from './program.ts';

/** Composition root of the `apo` command. */
export function main(argv: string[]): Promise<number> {
  return run(argv, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    tty: process.stdout.isTTY === true,
    cwd: process.cwd(),
  });
}

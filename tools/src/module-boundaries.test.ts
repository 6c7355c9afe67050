import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Lints code as if it were a file inside a project, to prove the boundary rules bite (and do
// not fire on what is allowed, so the check can fail both ways).
const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('module boundaries', () => {
  it('a contract library imports nothing from the workspace', async () => {
    expect(await problems('libs/messages/src/probe.ts', "import { BOUNDS } from '@apo/model-config';\nexport const x = BOUNDS;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries: A project tagged with "type:contract" can only depend on libs tagged with "type:none"/),
    ]);
    expect(await problems('libs/model-config/src/probe.ts', "import { Topics } from '@apo/messages';\nexport const x = Topics;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries/),
    ]);
  });

  it('a port library may use the contract but not the runtime', async () => {
    expect(await problems('libs/bus/src/probe.ts', "import { Topics } from '@apo/messages';\nexport const x = Topics;\n")).toEqual([]);
    expect(await problems('libs/artifacts/src/probe.ts', "import { runStage } from '@apo/runtime';\nexport const x = runStage;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries: A project tagged with "type:port" can only depend on libs tagged with "type:contract", "type:port"/),
    ]);
  });

  it('only composition roots and tests import adapters', async () => {
    const adapter = "import { SqliteStore } from '@apo/store';\nexport const x = SqliteStore;\n";
    expect(await problems('libs/runtime/src/probe.ts', adapter)).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*Adapters are chosen by composition roots/),
    ]);
    expect(await problems('libs/runtime/src/probe.test.ts', adapter)).toEqual([]);
    expect(await problems('libs/runtime/src/probe.ts', "import type { Store } from '@apo/store';\nexport type X = Store;\n")).toEqual([]);
  });

  it('a stage never imports another stage, and no library imports a stage', async () => {
    expect(await problems('apps/predict/src/probe.ts', "import { configHandlers } from '@apo/config';\nexport const x = configHandlers;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries: A project tagged with "type:stage" can only depend on libs tagged with "type:contract", "type:port", "type:runtime", "type:engine"/),
    ]);
    expect(await problems('libs/ml/src/probe.ts', "import { configHandlers } from '@apo/config';\nexport const x = configHandlers;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries: A project tagged with "type:engine" can only depend on libs tagged with "type:contract", "type:port"/),
    ]);
    expect(await problems('apps/cli/src/probe.ts', "import { configHandlers } from '@apo/config';\nexport const x = configHandlers;\n")).toEqual([]);
  });

  it('the service composition chooses adapters but imports no stage and no engine', async () => {
    expect(await problems('libs/platform/src/probe.ts', "import { KafkaBus } from '@apo/bus';\nexport const x = KafkaBus;\n")).toEqual([]);
    expect(await problems('libs/platform/src/probe.ts', "import { run } from '@apo/cli';\nexport const x = run;\n")).toEqual([
      expect.stringMatching(/^@nx\/enforce-module-boundaries/),
    ]);
    expect(await problems('libs/platform/src/probe.ts', "import { configHandlers } from '@apo/config';\nexport const x = configHandlers;\n")).not.toEqual([]);
    expect(await problems('libs/platform/src/probe.ts', "import { buildModel } from '@apo/ml';\nexport const x = buildModel;\n")).not.toEqual([]);
  });

  it('nothing imports the CLI', async () => {
    expect(await problems('apps/predict/src/probe.ts', "import { run } from '@apo/cli';\nexport const x = run;\n")).not.toEqual([]);
  });

  it('a library is imported through its index only', async () => {
    expect(
      await problems('libs/runtime/src/probe.ts', "import { Topics } from '@apo/messages/src/topics.ts';\nexport const x = Topics;\n"),
    ).not.toEqual([]);
  });
});

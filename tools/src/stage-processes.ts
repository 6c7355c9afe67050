// The stage services as OS processes, for the integration tests that run the product the way a
// deployment does: one process per stage, on the real broker and MongoDB-wire server.
import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Every stage service, in the order of the flow. */
export const STAGES = ['orchestrator', 'config', 'llm', 'build-model', 'prepare-features', 'predict'] as const;
export type Stage = (typeof STAGES)[number];

/** One running (or ended) stage process and everything it printed. */
export interface StageProcess {
  stage: Stage;
  child: ChildProcess;
  /** Its stdout lines (JSON logs) and stderr chunks, kept after it exits. */
  lines: string[];
  exited: Promise<number | null>;
}

/**
 * The environment every stage process of a test gets: the broker, a database of its own on the
 * MongoDB-wire server, GridFS artifacts, and health endpoints on free loopback ports.
 */
export function stageEnv(options: {
  brokers: string;
  mongoUri: string;
  dataRoot: string;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    KAFKA_BROKERS: options.brokers,
    MONGODB_URI: options.mongoUri,
    ARTIFACTS_URI: 'gridfs://artifacts',
    DATA_ROOT: options.dataRoot,
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.extra,
  };
}

/** One stage as its own OS process, the way `npm start -w @apo/<stage>` runs it. */
export function startStage(stage: Stage, env: Record<string, string>): StageProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', `apps/${stage}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString()}`));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { stage, child, lines, exited };
}

/** Whether the process logged that it consumes. */
export const isReady = (p: StageProcess) => p.lines.some((l) => l.includes(`"msg":"${p.stage} ready"`));

/** The last lines of each process, for a failure message. */
export function tails(processes: readonly StageProcess[], count = 15): string {
  return processes.map((p) => `--- ${p.stage} (pid ${p.child.pid})\n${p.lines.slice(-count).join('\n')}`).join('\n');
}

/** Polls `check` until it returns a value; on timeout, throws with `describe()` appended. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  describe: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function kafkaClient(brokers: string, clientId: string): Kafka {
  return new Kafka({ brokers: [brokers], clientId, logLevel: logLevel.NOTHING });
}

/** New consumer groups start at the end of their topics: waits until every stage's has joined. */
export async function groupsStable(kafka: Kafka, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = STAGES.map((s) => `adaptive-pipeline-${s}`);
    await until('every consumer group to be stable', timeoutMs, async () => {
      const { groups: described } = await admin.describeGroups(groups);
      return described.every((g) => g.state === 'Stable' && g.members.length > 0) ? true : undefined;
    });
  } finally {
    await admin.disconnect();
  }
}

/** A finished pipeline as `adaptive-pipeline-notifications` announced it. */
export type FinishedPayload = Record<string, unknown> & { requestId?: string; outcome?: string };

/** Collects the `PIPELINE_FINISHED` payloads (by request id, first one kept) from the start of the topic. */
export async function watchFinished(kafka: Kafka, groupId: string) {
  const finished = new Map<string, FinishedPayload>();
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'adaptive-pipeline-notifications', fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = JSON.parse(message.value!.toString()) as { type: string; payload: FinishedPayload };
      const id = value.payload.requestId;
      if (value.type === 'PIPELINE_FINISHED' && id && !finished.has(id)) finished.set(id, value.payload);
    },
  });
  return { finished, stop: () => consumer.disconnect() };
}

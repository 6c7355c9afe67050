import type { MessageType } from '@apo/messages';

/** The steps of one iteration (a trial). */
export type StepName = 'configure' | 'build' | 'prepare' | 'train';

/** One step of the iteration: the command it sends, the reply it waits for, and its patience. */
export interface StepSpec {
  name: StepName;
  command: MessageType;
  reply: MessageType;
  /** Steps whose replies this one needs; steps with the same `after` run side by side. */
  after: readonly StepName[];
  /** How long to wait for the reply to the first send. */
  timeoutMs: number;
  /** How many times the command is sent again (same id) before the trial fails. */
  retries: number;
  /** Each send waits `backoff` times longer than the one before. */
  backoff: number;
}

export type Dag = readonly StepSpec[];

export type StepTimeouts = Partial<Record<StepName, { timeoutMs?: number; retries?: number }>>;

const MINUTE = 60_000;

/**
 * The iteration as data: configure, then build and prepare side by side, joined before train.
 * Default timeouts are generous (a proposal may wait on an LLM, a training on a slow machine);
 * operators tighten them per step.
 */
export function iterationDag(overrides: StepTimeouts = {}): Dag {
  const steps: StepSpec[] = [
    { name: 'configure', command: 'GET_CONFIGURATION', reply: 'NEW_LLM_CONFIGURATION_READY', after: [], timeoutMs: 5 * MINUTE, retries: 2, backoff: 2 },
    { name: 'build', command: 'GENERATE_MODEL', reply: 'MODEL_READY', after: ['configure'], timeoutMs: 5 * MINUTE, retries: 2, backoff: 2 },
    { name: 'prepare', command: 'PREPARE_FEATURES', reply: 'FEATURES_READY', after: ['configure'], timeoutMs: 10 * MINUTE, retries: 2, backoff: 2 },
    { name: 'train', command: 'RUN_MODEL', reply: 'PREDICTION_READY', after: ['build', 'prepare'], timeoutMs: 60 * MINUTE, retries: 1, backoff: 1.5 },
  ];
  return steps.map((s) => ({ ...s, ...definedOnly(overrides[s.name] ?? {}) }));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Where one step of a trial stands; kept in the pipeline record, so it is plain JSON. */
export interface StepState {
  status: 'waiting' | 'sent' | 'done';
  /** Sends so far (1 after the first); the envelope's `attempt` of the latest send. */
  attempts: number;
  sentAt: string | null;
  /** When the reply is overdue. */
  deadline: string | null;
  /** Id of the message whose handling sent the command: its redelivery sends the command again. */
  cause: string | null;
}

export type StepStates = Record<StepName, StepState>;

export const spec = (dag: Dag, name: StepName): StepSpec => dag.find((s) => s.name === name)!;

/** The step that waits for a reply of this type. */
export const stepForReply = (dag: Dag, reply: MessageType): StepSpec | undefined => dag.find((s) => s.reply === reply);

export function newSteps(dag: Dag): StepStates {
  const waiting: StepState = { status: 'waiting', attempts: 0, sentAt: null, deadline: null, cause: null };
  return Object.fromEntries(dag.map((s) => [s.name, waiting])) as StepStates;
}

/** Steps not sent yet whose every predecessor has its reply. */
export function readySteps(dag: Dag, steps: StepStates): StepName[] {
  return dag.filter((s) => steps[s.name].status === 'waiting' && s.after.every((a) => steps[a].status === 'done')).map((s) => s.name);
}

/** Marks steps as sent now (first send) because of message `cause`. */
export function markSent(dag: Dag, steps: StepStates, names: readonly StepName[], cause: string | null, now: Date): StepStates {
  const next = { ...steps };
  for (const name of names) {
    next[name] = { status: 'sent', attempts: 1, sentAt: now.toISOString(), deadline: deadline(spec(dag, name), 1, now), cause };
  }
  return next;
}

export function markDone(steps: StepStates, name: StepName): StepStates {
  return { ...steps, [name]: { ...steps[name], status: 'done', deadline: null } };
}

/** A step sent again: one more attempt, with a longer wait. */
export function markResent(dag: Dag, steps: StepStates, name: StepName, now: Date): StepStates {
  const attempts = steps[name].attempts + 1;
  return { ...steps, [name]: { ...steps[name], attempts, sentAt: now.toISOString(), deadline: deadline(spec(dag, name), attempts, now) } };
}

function deadline(s: StepSpec, attempt: number, now: Date): string {
  return new Date(now.getTime() + s.timeoutMs * s.backoff ** (attempt - 1)).toISOString();
}

/** Sent steps whose reply is overdue at `now`: those to send again, and the first out of tries. */
export function overdue(dag: Dag, steps: StepStates, now: Date): { resend: StepName[]; expired: StepName | null } {
  const late = dag.filter((s) => {
    const st = steps[s.name];
    return st.status === 'sent' && st.deadline !== null && Date.parse(st.deadline) <= now.getTime();
  });
  const expired = late.find((s) => steps[s.name].attempts > s.retries);
  return { resend: late.filter((s) => steps[s.name].attempts <= s.retries).map((s) => s.name), expired: expired?.name ?? null };
}

/** Milliseconds the trial waited on a step over all its sends (for the timeout's reason). */
export function waitedMs(s: StepSpec, attempts: number): number {
  let total = 0;
  for (let a = 1; a <= attempts; a++) total += s.timeoutMs * s.backoff ** (a - 1);
  return total;
}

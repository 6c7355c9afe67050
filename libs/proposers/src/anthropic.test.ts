import { APIConnectionTimeoutError, AuthenticationError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import { canonicalize, configurationJsonSchema, type ModelConfiguration } from '@apo/model-config';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicProposer, toLlmRequestError, type AnthropicProposerOptions } from './anthropic.ts';
import { LlmRequestError } from './errors/llm-request-error.ts';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import { TOOL_NAME } from './prompt.ts';
import type { ProposalRequest, TrialRecord } from './proposer.ts';
import {
  expectNewValidProposal,
  fakeReplies,
  proposerContractSuite,
  randomHistory,
  singlePointSearchSpace,
  startFakeMessagesApi,
  credentialOf,
  toolInputSchema,
  userText,
  type FakeMessagesApi,
  type RecordedRequest,
} from './testing.ts';
import { TpeProposer } from './tpe.ts';

const API_KEY = 'sk-ant-test-0123456789-secret';

const fresh: ModelConfiguration = canonicalize({
  hiddenLayers: [
    { units: 96, activation: 'elu', dropout: 0.2 },
    { units: 48, activation: 'elu' },
    { units: 24, activation: 'tanh' },
  ],
  optimizer: 'rmsprop',
  learningRate: 0.004,
  batchSize: 48,
  maxEpochs: 150,
  patience: 15,
});
const outOfRange = { ...fresh, hiddenLayers: [{ units: 4096, activation: 'relu' }] };

// A history with one and two layers only, so the fresh three-layer proposal is new.
const history: TrialRecord[] = [
  { configuration: canonicalize({ hiddenLayers: [{ units: 64, activation: 'relu' }], optimizer: 'adam', learningRate: 0.001, batchSize: 32, maxEpochs: 100 }), status: 'succeeded', value: 0.91, source: 'tpe' },
  { configuration: canonicalize({ hiddenLayers: [{ units: 16, activation: 'tanh' }], optimizer: 'sgd', learningRate: 0.2, batchSize: 8, maxEpochs: 50 }), status: 'failed', source: 'random', error: 'loss became NaN at epoch 2' },
  { configuration: canonicalize({ hiddenLayers: [{ units: 128, activation: 'relu' }, { units: 64, activation: 'relu' }], optimizer: 'adam', learningRate: 0.001, batchSize: 32, maxEpochs: 200 }), status: 'succeeded', value: 0.95, source: 'llm' },
];
const duplicate = history[2]!.configuration;

const request: ProposalRequest = {
  metric: 'accuracy',
  direction: 'maximize',
  history,
  seed: 7,
  context: {
    kpi: { metric: 'accuracy', target: 0.97 },
    history: { attempts: [{ iteration: 1, configuration: history[2]!.configuration, status: 'succeeded', value: 0.95 }] },
  },
};

let fake: FakeMessagesApi;
beforeAll(async () => {
  fake = await startFakeMessagesApi();
});
afterAll(() => fake.close());
afterEach(() => {
  expect(fake.pending, 'every scripted reply was used').toBe(0);
  fake.requests.length = 0;
});

function proposer(options: Partial<AnthropicProposerOptions> = {}) {
  return new AnthropicProposer({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0, timeoutMs: 5_000, ...options });
}

/** The last user turn of a request: what a repair sent back. */
function lastUserTurn(r: RecordedRequest): unknown {
  const messages = r.body['messages'] as { role: string; content: unknown }[];
  return messages.at(-1)!.content;
}

describe('AnthropicProposer against the fake Messages API', () => {
  it('sends the model, the forced tool with the configuration schema, and the history by layer count', async () => {
    fake.enqueue(fakeReplies.proposal(fresh, 'three narrowing elu layers, unexplored depth'));
    const proposal = await proposer({ model: 'claude-test-model' }).propose(request);
    expectNewValidProposal(proposal, history);
    expect(proposal).toMatchObject({ configuration: fresh, source: 'llm', rationale: 'three narrowing elu layers, unexplored depth' });
    expect(proposal.note).toBeUndefined();

    const [sent] = fake.requests;
    expect(sent!.path).toBe('/v1/messages');
    expect(credentialOf(sent!)).toBe(API_KEY);
    expect(sent!.body['model']).toBe('claude-test-model');
    expect(sent!.body['tool_choice']).toEqual({ type: 'tool', name: TOOL_NAME });
    expect(toolInputSchema(sent!)).toEqual({
      type: 'object',
      properties: { rationale: expect.objectContaining({ type: 'string' }), configuration: configurationJsonSchema() },
      required: ['rationale', 'configuration'],
      additionalProperties: false,
    });
    const text = userText(sent!);
    // Grouped by layer count, ascending, each group with its runs; failures with their error.
    expect(text).toMatch(/1 layer: 2 runs \(1 ok, 1 failed\)[^\n]*\n[^\n]*-> 0\.91\n[^\n]*FAILED: loss became NaN at epoch 2/);
    expect(text.indexOf('1 layer:')).toBeLessThan(text.indexOf('2 layers: 1 run'));
    expect(text).toContain('goal accuracy >= 0.97');
    expect(text).toMatch(/This pipeline so far \(1, oldest first\):\n#1 \[128 relu \| 64 relu\]/);
    expect(text).toMatch(/Hint, the TPE optimizer's pick/);
    expect(proposal.llm).toMatchObject({ model: 'claude-test-model', inputTokens: expect.any(Number), outputTokens: expect.any(Number) });
    expect(proposal.llm!.inputTokens).toBeGreaterThan(100);
  });

  it.each([
    ['an out-of-range answer', fakeReplies.proposal(outOfRange), /hiddenLayers\.0\.units: .*1024/],
    ['a duplicate of a tried configuration', fakeReplies.proposal(duplicate), /repeats or nearly repeats a tried configuration/],
    ['a near-duplicate (learning rate 5 % off)', fakeReplies.proposal({ ...duplicate, learningRate: 0.00105 }), /repeats or nearly repeats/],
    ['malformed JSON as the tool input', fakeReplies.malformedJson(), /not a JSON object/],
    ['a text-only answer', fakeReplies.textOnly(), /has no propose_configuration call/],
  ])('repairs %s by sending the exact error back, then records llm-repaired', async (_case, bad, reason) => {
    fake.enqueue(bad, fakeReplies.proposal(fresh));
    const proposal = await proposer().propose(request);
    expectNewValidProposal(proposal, history);
    expect(proposal).toMatchObject({ configuration: fresh, source: 'llm-repaired' });
    expect(proposal.note).toMatch(reason);
    expect(fake.requests).toHaveLength(2);
    const repair = lastUserTurn(fake.requests[1]!);
    const back = typeof repair === 'string' ? repair : JSON.stringify(repair);
    expect(back).toMatch(reason);
    if (bad.kind === 'tool') {
      // A rejected tool call is answered by its tool_result, marked as an error.
      expect(repair).toEqual([expect.objectContaining({ type: 'tool_result', tool_use_id: expect.stringMatching(/^toolu_/), is_error: true })]);
    }
  });

  it('sends the schema validator’s message word for word', async () => {
    fake.enqueue(fakeReplies.proposal({ ...fresh, patience: 200, maxEpochs: 100 }), fakeReplies.proposal(fresh));
    await proposer().propose(request);
    const [result] = lastUserTurn(fake.requests[1]!) as { content: string }[];
    expect(result!.content).toContain('Invalid model configuration: patience: must be at most 100 (got 200)');
  });

  it('falls back to TPE after two repairs, with every reason in the note and the usage of all three calls', async () => {
    fake.enqueue(fakeReplies.proposal(outOfRange), fakeReplies.proposal(duplicate), fakeReplies.textOnly());
    const proposal = await proposer().propose(request);
    const tpe = await new TpeProposer().propose(request);
    expectNewValidProposal(proposal, history);
    expect(proposal).toMatchObject({ configuration: tpe.configuration, source: 'tpe-fallback', rationale: tpe.rationale });
    expect(proposal.note).toMatch(/^LLM answers unusable after 3 tries: Invalid model configuration.* \| .*repeats.* \| .*no propose_configuration call/);
    expect(fake.requests).toHaveLength(3);
    expect(proposal.llm!.inputTokens).toBeGreaterThan(0);
    // Each call costs its whole conversation, so the later ones cost more than the first.
    expect(proposal.llm!.inputTokens).toBeGreaterThan(3 * (await firstCallInput()));
  });

  it('waits out a 429 as its retry-after asks and a 500 with backoff (the SDK retries), then proposes', async () => {
    fake.enqueue(fakeReplies.rateLimited(0.05), fakeReplies.serverError(), fakeReplies.proposal(fresh));
    const proposal = await proposer({ maxRetries: 2 }).propose(request);
    expect(proposal).toMatchObject({ configuration: fresh, source: 'llm' });
    expect(fake.requests).toHaveLength(3);
    expect(proposal.llm!.latencyMs).toBeGreaterThanOrEqual(50);
  });

  it.each([
    ['rate-limited', [fakeReplies.rateLimited(0.01), fakeReplies.rateLimited(0.01)]],
    ['server', [fakeReplies.serverError(), fakeReplies.serverError()]],
    ['timeout', [fakeReplies.hang(), fakeReplies.hang()]],
  ])('falls back to TPE once retries are spent (%s) and says why', async (kind, replies) => {
    fake.enqueue(...replies);
    const proposal = await proposer({ maxRetries: 1, timeoutMs: 150 }).propose(request);
    expectNewValidProposal(proposal, history);
    expect(proposal.source).toBe('tpe-fallback');
    expect(proposal.note).toMatch(new RegExp(`^LLM request failed \\(${kind}\\)`));
    expect(proposal.llm).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up on a hung request after its timeout, quickly', async () => {
    fake.enqueue(fakeReplies.hang(), fakeReplies.proposal(fresh));
    const started = Date.now();
    const proposal = await proposer({ maxRetries: 1, timeoutMs: 200 }).propose(request);
    expect(proposal).toMatchObject({ configuration: fresh, source: 'llm' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('never lets the API key out: not in a note, an error or the proposal, even when the API echoes it', async () => {
    fake.enqueue({ kind: 'status', status: 401, type: 'authentication_error', message: `invalid x-api-key ${API_KEY}` });
    const proposal = await proposer().propose(request);
    expect(proposal.source).toBe('tpe-fallback');
    expect(proposal.note).toMatch(/^LLM request failed \(auth\): 401 .*invalid x-api-key \[redacted\]/);
    expect(JSON.stringify(proposal)).not.toContain(API_KEY);

    const echoed = new AuthenticationError(401, { type: 'error', error: { message: API_KEY } }, `bad key ${API_KEY}`, new Headers());
    const error = toLlmRequestError(echoed, API_KEY);
    expect(error).toBeInstanceOf(LlmRequestError);
    expect(`${error.message} ${error.stack} ${JSON.stringify(error)}`).not.toContain(API_KEY);
    expect(error.cause).toBeUndefined();
  });

  it('maps the SDK errors to request failure kinds with instanceof, and rethrows anything else', () => {
    const headers = new Headers();
    const kindOf = (err: unknown) => toLlmRequestError(err, API_KEY);
    expect(kindOf(new RateLimitError(429, undefined, 'slow down', headers))).toMatchObject({ kind: 'rate-limited', status: 429, retryable: true });
    expect(kindOf(new InternalServerError(529, undefined, 'overloaded', headers))).toMatchObject({ kind: 'server', status: 529, retryable: true });
    expect(kindOf(new APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout', retryable: true });
    expect(kindOf(new AuthenticationError(401, undefined, 'no', headers))).toMatchObject({ kind: 'auth', retryable: false });
    const bug = new TypeError('a bug');
    expect(() => kindOf(bug)).toThrow(bug);
  });

  it('reports a refused connection as a connection failure and goes on with TPE', async () => {
    const closed = await startFakeMessagesApi();
    const url = closed.url;
    await closed.close();
    const proposal = await proposer({ baseURL: url }).propose(request);
    expect(proposal.source).toBe('tpe-fallback');
    expect(proposal.note).toMatch(/^LLM request failed \(connection\)/);
  });

  it('rethrows the fallback’s SearchSpaceExhaustedError when the LLM fails too', async () => {
    const { searchSpace, configuration } = singlePointSearchSpace();
    fake.enqueue(fakeReplies.textOnly(), fakeReplies.textOnly(), fakeReplies.textOnly());
    const exhausted = proposer({ fallback: new TpeProposer({ searchSpace }) });
    await expect(
      exhausted.propose({ ...request, history: [{ configuration, status: 'succeeded', value: 0.9 }] }),
    ).rejects.toBeInstanceOf(SearchSpaceExhaustedError);
  });

  it('still proposes from the LLM when the fallback has nothing new left', async () => {
    const { searchSpace, configuration } = singlePointSearchSpace();
    fake.enqueue(fakeReplies.proposal(fresh));
    const proposal = await proposer({ fallback: new TpeProposer({ searchSpace }) }).propose({
      ...request,
      history: [{ configuration, status: 'succeeded', value: 0.9 }],
    });
    expect(proposal).toMatchObject({ configuration: fresh, source: 'llm' });
    expect(userText(fake.requests[0]!)).not.toMatch(/Hint/);
  });
});

/** Input tokens of one first call for `request`, as the fake counts them. */
async function firstCallInput(): Promise<number> {
  const before = fake.requests.length;
  fake.enqueue(fakeReplies.proposal(fresh));
  const proposal = await proposer().propose(request);
  fake.requests.splice(before);
  return proposal.llm!.inputTokens;
}

describe('the shared proposer contract, with the fake answering sampled configurations', () => {
  let contractFake: FakeMessagesApi;
  beforeAll(async () => {
    contractFake = await startFakeMessagesApi();
  });
  afterAll(() => contractFake.close());
  // Exhaustion is not checked: the LLM searches the whole schema, so a history that exhausts
  // the fallback's search space does not exhaust it (see the test above).
  proposerContractSuite('anthropic (fake Messages API)', () => new AnthropicProposer({ apiKey: API_KEY, baseURL: contractFake.url, maxRetries: 0 }));

  it('mostly answers from the LLM, not the fallback, for a large history', async () => {
    const big = randomHistory(100, 21);
    const llm = new AnthropicProposer({ apiKey: API_KEY, baseURL: contractFake.url, maxRetries: 0 });
    const sources = [];
    for (const seed of [1, 2, 3, 4]) sources.push((await llm.propose({ ...request, history: big, seed })).source);
    expect(sources.filter((s) => s.startsWith('llm')).length).toBeGreaterThanOrEqual(3);
  });
});

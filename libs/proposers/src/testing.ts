import {
  canonicalize,
  configurationHash,
  findNearDuplicate,
  safeParseModelConfiguration,
  type ModelConfiguration,
} from '@apo/model-config';
import { describe, expect, it } from 'vitest';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import { seededRandom } from './prng.ts';
import type { Proposal, ProposalRequest, Proposer, TrialRecord } from './proposer.ts';
import { samplePriorAssignment } from './sample.ts';
import { createSearchSpace, type SearchSpace } from './search-space.ts';
import { accuracyObjective } from './synthetic.ts';
export {
  credentialOf,
  fakeReplies,
  sampledReply,
  startFakeMessagesApi,
  toolInputSchema,
  userText,
  type FakeMessagesApi,
  type FakeMessagesApiOptions,
  type FakeReply,
  type RecordedRequest,
} from './fake-messages-api.ts';

export {
  accuracyObjective,
  bestAfter,
  quantile,
  rmseObjective,
  runSearch,
  type SyntheticObjective,
} from './synthetic.ts';

/** Builds the proposer under test; called once or more per check. */
export type MakeProposer = () => Proposer | Promise<Proposer>;

/** One contract check, rejecting (an assertion error) when the proposer breaks the contract. */
export type ProposerCheck = (make: MakeProposer) => Promise<void>;

/** A proposer and a history with which it has nothing new left to propose. */
export interface ExhaustedCase {
  proposer: Proposer;
  history: TrialRecord[];
}

/**
 * `size` trials spread over the whole default search space, oldest first, valued by the
 * accuracy-like objective; about one in ten failed. The same `seed` gives the same history.
 */
export function randomHistory(size: number, seed: number): TrialRecord[] {
  const space = createSearchSpace();
  const random = seededRandom(seed);
  return Array.from({ length: size }, (): TrialRecord => {
    const configuration = space.decode(samplePriorAssignment(space, random));
    const value = accuracyObjective.evaluate(configuration);
    return value === null || random() < 0.1
      ? { configuration, status: 'failed', source: 'random' }
      : { configuration, status: 'succeeded', value, source: 'random' };
  });
}

/**
 * A search space holding exactly one configuration, and that configuration: with it in the
 * history, an offline proposer over this space has nothing new left.
 */
export function singlePointSearchSpace(): { searchSpace: SearchSpace; configuration: ModelConfiguration } {
  const searchSpace = createSearchSpace({
    hiddenLayers: { min: 2, max: 2 },
    units: { min: 64, max: 64 },
    activations: ['relu'],
    dropout: { min: 0.1, max: 0.1 },
    batchNorm: [false],
    l2: null,
    optimizers: ['adam'],
    learningRate: { min: 0.001, max: 0.001 },
    batchSize: { min: 32, max: 32 },
    maxEpochs: { min: 100, max: 100 },
    patience: { min: 10, max: 10 },
  });
  return { searchSpace, configuration: searchSpace.decode(samplePriorAssignment(searchSpace, seededRandom(0))) };
}

function request(history: TrialRecord[], seed: number, direction: ProposalRequest['direction'] = 'maximize'): ProposalRequest {
  return { metric: direction === 'maximize' ? 'accuracy' : 'rmse', direction, history, seed };
}

/**
 * Asserts what every proposal must be: valid under the schema, in canonical form, with a
 * source, and neither a duplicate nor a near-duplicate of any configuration in `history`.
 */
export function expectNewValidProposal(proposal: Proposal, history: readonly TrialRecord[]): void {
  const parsed = safeParseModelConfiguration(proposal.configuration);
  expect(parsed.success, parsed.success ? '' : parsed.error.message).toBe(true);
  expect(proposal.configuration, 'configuration is in canonical form').toEqual(canonicalize(proposal.configuration));
  expect(typeof proposal.source === 'string' && proposal.source.length > 0, 'source is a non-empty string').toBe(true);
  const hashes = new Set(history.map((t) => configurationHash(t.configuration)));
  expect(hashes.has(configurationHash(proposal.configuration)), 'proposal repeats a tried configuration').toBe(false);
  const near = findNearDuplicate(
    proposal.configuration,
    history.map((t) => t.configuration),
  );
  expect(near, 'proposal is a near-duplicate of a tried configuration').toBeNull();
}

/** Proposes a valid configuration for an empty history (the first iteration of a new dataset). */
export async function checkEmptyHistory(make: MakeProposer): Promise<void> {
  const proposer = await make();
  expectNewValidProposal(await proposer.propose(request([], 1)), []);
}

/** Proposes something new against 200 random trials, for several seeds. */
export async function checkNoDuplicateOfLargeHistory(make: MakeProposer): Promise<void> {
  const proposer = await make();
  const history = randomHistory(200, 7);
  for (const seed of [1, 2, 3]) expectNewValidProposal(await proposer.propose(request(history, seed)), history);
}

/**
 * Keeps proposing new configurations when its own proposals come back as history, even with
 * an unchanged seed (a pipeline whose seed does not advance, or a misbehaving caller).
 */
export async function checkNoRepeatOfOwnProposals(make: MakeProposer): Promise<void> {
  const proposer = await make();
  const history: TrialRecord[] = [];
  for (let i = 0; i < 15; i += 1) {
    const proposal = await proposer.propose(request(history, 42));
    expectNewValidProposal(proposal, history);
    const value = accuracyObjective.evaluate(proposal.configuration);
    history.push(
      value === null
        ? { configuration: proposal.configuration, status: 'failed' }
        : { configuration: proposal.configuration, status: 'succeeded', value },
    );
  }
}

/** The same request gives the same proposal, from the same instance and from a new one. */
export async function checkDeterministic(make: MakeProposer): Promise<void> {
  for (const history of [[], randomHistory(40, 3)]) {
    const first = await (await make()).propose(request(history, 1234));
    const again = await (await make()).propose(request(history, 1234));
    const proposer = await make();
    await proposer.propose(request(history, 99));
    const sameInstance = await proposer.propose(request(history, 1234));
    expect(again.configuration).toEqual(first.configuration);
    expect(sameInstance.configuration).toEqual(first.configuration);
  }
}

/** Copes with a history in which every training failed (no metric value at all). */
export async function checkAllFailedHistory(make: MakeProposer): Promise<void> {
  const proposer = await make();
  const history = randomHistory(30, 11).map(({ configuration }): TrialRecord => ({ configuration, status: 'failed' }));
  for (const seed of [1, 2]) expectNewValidProposal(await proposer.propose(request(history, seed)), history);
}

/** Works whether the metric is maximised or minimised. */
export async function checkBothDirections(make: MakeProposer): Promise<void> {
  const proposer = await make();
  const history = randomHistory(30, 5);
  for (const direction of ['maximize', 'minimize'] as const) {
    expectNewValidProposal(await proposer.propose(request(history, 8, direction)), history);
  }
}

/** Rejects with a non-retryable `SearchSpaceExhaustedError` when nothing new is left. */
export async function checkExhaustion(makeCase: () => ExhaustedCase | Promise<ExhaustedCase>): Promise<void> {
  const { proposer, history } = await makeCase();
  const error: unknown = await proposer.propose(request(history, 1)).then(
    (proposal) => proposal,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SearchSpaceExhaustedError);
  expect((error as SearchSpaceExhaustedError).retryable).toBe(false);
}

/** The checks every proposer must pass, by title; `proposerContractSuite` runs them all. */
export const proposerContractCases: Record<string, ProposerCheck> = {
  'proposes a valid configuration for an empty history': checkEmptyHistory,
  'never proposes a duplicate or near-duplicate of 200 tried configurations': checkNoDuplicateOfLargeHistory,
  'never repeats its own earlier proposals, even with the same seed': checkNoRepeatOfOwnProposals,
  'proposes the same for the same request': checkDeterministic,
  'proposes something new when every training failed': checkAllFailedHistory,
  'works for maximised and minimised metrics': checkBothDirections,
};

/** Options of `proposerContractSuite`. */
export interface ProposerContractOptions {
  /**
   * A proposer with a history that leaves it nothing new, to check it gives up with
   * `SearchSpaceExhaustedError`. Left out, that check is skipped: not every proposer can be
   * exhausted cheaply.
   */
  exhausted?: () => ExhaustedCase | Promise<ExhaustedCase>;
}

/** Registers every proposer contract check as a test for one proposer. */
export function proposerContractSuite(name: string, make: MakeProposer, options: ProposerContractOptions = {}): void {
  describe(`proposer contract: ${name}`, () => {
    for (const [title, check] of Object.entries(proposerContractCases)) {
      it(title, () => check(make), 60_000);
    }
    const { exhausted } = options;
    if (exhausted) {
      it('gives up with a non-retryable SearchSpaceExhaustedError when nothing new is left', () => checkExhaustion(exhausted));
    }
  });
}

import { canonicalize, type ModelConfiguration } from '@apo/model-config';
import { describe, expect, it } from 'vitest';
import type { Proposal, ProposalRequest, Proposer } from './proposer.ts';
import { RandomProposer } from './random.ts';
import { checkExhaustion, proposerContractCases, singlePointSearchSpace } from './testing.ts';

const fallback: ModelConfiguration = canonicalize({
  hiddenLayers: [{ units: 64, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
});

function best(request: ProposalRequest): ModelConfiguration {
  const sign = request.direction === 'maximize' ? 1 : -1;
  const succeeded = request.history.filter((t) => t.status === 'succeeded' && t.value !== undefined);
  succeeded.sort((a, b) => sign * (b.value! - a.value!));
  return succeeded[0]?.configuration ?? fallback;
}

/** Returns the best configuration of the history again. */
class RepeatBestProposer implements Proposer {
  readonly name = 'repeat-best';
  async propose(request: ProposalRequest): Promise<Proposal> {
    return { configuration: best(request), source: this.name };
  }
}

/** Returns the best configuration with a learning rate 5 % higher: a new hash, the same experiment. */
class NudgeBestProposer implements Proposer {
  readonly name = 'nudge-best';
  async propose(request: ProposalRequest): Promise<Proposal> {
    const configuration = best(request);
    return { configuration: canonicalize({ ...configuration, learningRate: configuration.learningRate * 1.05 }), source: this.name };
  }
}

/** Random search that ignores the seed. */
class UnseededProposer implements Proposer {
  readonly name = 'unseeded';
  async propose(request: ProposalRequest): Promise<Proposal> {
    return new RandomProposer().propose({ ...request, seed: Math.floor(Math.random() * 2 ** 32) });
  }
}

/** Random search that only checks against the history it was built with (none). */
class ForgetfulProposer implements Proposer {
  readonly name = 'forgetful';
  async propose(request: ProposalRequest): Promise<Proposal> {
    return new RandomProposer().propose({ ...request, history: [] });
  }
}

/** Proposes 4096 units, beyond the schema's bound. */
class OversizedProposer implements Proposer {
  readonly name = 'oversized';
  async propose(): Promise<Proposal> {
    const layer = { ...fallback.hiddenLayers[0]!, units: 4096 };
    return { configuration: { ...fallback, hiddenLayers: [layer] }, source: this.name };
  }
}

/** Valid, but not canonical: a momentum that adam ignores. */
class NonCanonicalProposer implements Proposer {
  readonly name = 'non-canonical';
  async propose(): Promise<Proposal> {
    return { configuration: { ...fallback, momentum: 0.5 }, source: this.name };
  }
}

const check = (title: string) => proposerContractCases[title]!;

describe('the proposer contract rejects broken proposers', () => {
  it('one that returns the best configuration of the history again', async () => {
    await expect(
      check('never proposes a duplicate or near-duplicate of 200 tried configurations')(() => new RepeatBestProposer()),
    ).rejects.toThrow(/repeats a tried configuration/);
  });

  it('one that nudges the best configuration by less than training noise', async () => {
    await expect(
      check('never proposes a duplicate or near-duplicate of 200 tried configurations')(() => new NudgeBestProposer()),
    ).rejects.toThrow(/near-duplicate/);
  });

  it('one that ignores the history it is given', async () => {
    await expect(
      check('never repeats its own earlier proposals, even with the same seed')(() => new ForgetfulProposer()),
    ).rejects.toThrow();
  });

  it('one that ignores the seed', async () => {
    await expect(check('proposes the same for the same request')(() => new UnseededProposer())).rejects.toThrow();
  });

  it('one that proposes an invalid configuration', async () => {
    await expect(
      check('proposes a valid configuration for an empty history')(() => new OversizedProposer()),
    ).rejects.toThrow(/units/);
  });

  it('one that proposes a configuration not in canonical form', async () => {
    await expect(
      check('proposes a valid configuration for an empty history')(() => new NonCanonicalProposer()),
    ).rejects.toThrow(/canonical/);
  });

  it('one that repeats itself instead of giving up', async () => {
    const { configuration } = singlePointSearchSpace();
    await expect(
      checkExhaustion(() => ({ proposer: new RepeatBestProposer(), history: [{ configuration, status: 'succeeded', value: 1 }] })),
    ).rejects.toThrow();
  });
});

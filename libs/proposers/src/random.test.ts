import { canonicalize } from '@apo/model-config';
import { describe, expect, it } from 'vitest';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import { RandomProposer } from './random.ts';
import { createSearchSpace } from './search-space.ts';
import { proposerContractSuite, singlePointSearchSpace } from './testing.ts';

proposerContractSuite('random', () => new RandomProposer(), {
  exhausted: () => {
    const { searchSpace, configuration } = singlePointSearchSpace();
    return { proposer: new RandomProposer({ searchSpace }), history: [{ configuration, status: 'succeeded', value: 0.5 }] };
  },
});

describe('RandomProposer', () => {
  const request = { metric: 'accuracy', direction: 'maximize' as const, history: [] };

  it('proposes differently for different seeds', async () => {
    const proposer = new RandomProposer();
    const proposals = await Promise.all([1, 2, 3, 4, 5].map((seed) => proposer.propose({ ...request, seed })));
    expect(new Set(proposals.map((p) => JSON.stringify(p.configuration))).size).toBe(5);
    expect(proposals.every((p) => p.source === 'random')).toBe(true);
  });

  it('gives up when every draw is a near-duplicate, not only an exact one', async () => {
    // Everything fixed but a learning rate within ×1.2, which the distance calls the same.
    const searchSpace = createSearchSpace({
      hiddenLayers: { min: 1, max: 1 },
      units: { min: 32, max: 32 },
      activations: ['tanh'],
      dropout: { min: 0, max: 0 },
      batchNorm: [false],
      l2: null,
      optimizers: ['rmsprop'],
      learningRate: { min: 0.001, max: 0.0012 },
      batchSize: { min: 64, max: 64 },
      maxEpochs: { min: 50, max: 50 },
      patience: { min: 5, max: 5 },
    });
    const tried = canonicalize({
      hiddenLayers: [{ units: 32, activation: 'tanh' }],
      optimizer: 'rmsprop',
      learningRate: 0.0011,
      batchSize: 64,
      maxEpochs: 50,
      patience: 5,
    });
    const proposer = new RandomProposer({ searchSpace, maxAttempts: 50 });
    await expect(
      proposer.propose({ ...request, seed: 1, history: [{ configuration: tried, status: 'failed' }] }),
    ).rejects.toBeInstanceOf(SearchSpaceExhaustedError);
  });

  it('refuses a non-positive maxAttempts', () => {
    expect(() => new RandomProposer({ maxAttempts: 0 })).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import type { ModelConfiguration } from '@apo/model-config';
import { STARTUP_CONFIGURATIONS } from './defaults.ts';
import { SearchSpaceExhaustedError } from './errors/search-space-exhausted-error.ts';
import type { Proposer, TrialRecord } from './proposer.ts';
import { RandomProposer } from './random.ts';
import { createSearchSpace } from './search-space.ts';
import {
  accuracyObjective,
  bestAfter,
  proposerContractSuite,
  quantile,
  randomHistory,
  rmseObjective,
  runSearch,
  singlePointSearchSpace,
  type SyntheticObjective,
} from './testing.ts';
import { defaultGamma, TpeProposer } from './tpe.ts';

proposerContractSuite('tpe', () => new TpeProposer(), {
  exhausted: () => {
    const { searchSpace, configuration } = singlePointSearchSpace();
    // startupTrials 1, so the modelled path (not the random startup) has to give up.
    return {
      proposer: new TpeProposer({ searchSpace, startupTrials: 1 }),
      history: [{ configuration, status: 'succeeded', value: 0.5 }],
    };
  },
});

async function medianBest(make: () => Proposer, objective: SyntheticObjective, trials: number, seeds: number) {
  const bests: number[] = [];
  for (let seed = 1; seed <= seeds; seed += 1) {
    bests.push(bestAfter(await runSearch(make(), objective, { trials, seed }), trials, objective.direction));
  }
  return quantile(bests, 0.5);
}

describe('TpeProposer finds better configurations than random search', () => {
  for (const objective of [accuracyObjective, rmseObjective]) {
    it(`${objective.name} (${objective.direction}): better median best-after-30 over 20 seeds`, async () => {
      const tpe = await medianBest(() => new TpeProposer({ startupConfigurations: [] }), objective, 30, 20);
      const random = await medianBest(() => new RandomProposer(), objective, 30, 20);
      console.log(`${objective.name}: median best after 30 trials, 20 seeds: tpe ${tpe.toFixed(4)}, random ${random.toFixed(4)}`);
      if (objective.direction === 'maximize') expect(tpe).toBeGreaterThan(random);
      else expect(tpe).toBeLessThan(random);
    });
  }

  it('concentrates near the optimum: the last 10 of 40 learning rates are closer to 1e-3 than random ones', async () => {
    const distances = async (make: () => Proposer) => {
      const all: number[] = [];
      for (let seed = 1; seed <= 8; seed += 1) {
        const history = await runSearch(make(), accuracyObjective, { trials: 40, seed });
        all.push(...history.slice(30).map((t) => Math.abs(Math.log10(t.configuration.learningRate) + 3)));
      }
      return quantile(all, 0.5);
    };
    const tpe = await distances(() => new TpeProposer({ startupConfigurations: [] }));
    const random = await distances(() => new RandomProposer());
    console.log(`median |log10(lr) - log10(1e-3)| of proposals 31-40: tpe ${tpe.toFixed(3)}, random ${random.toFixed(3)}`);
    expect(tpe).toBeLessThan(random);
  });
});

describe('TpeProposer', () => {
  const request = (history: TrialRecord[], seed = 1) => ({ metric: 'accuracy', direction: 'maximize' as const, history, seed });

  it('samples at random until the history holds startupTrials trials, then models it', async () => {
    const proposer = new TpeProposer({ startupConfigurations: [] });
    expect((await proposer.propose(request(randomHistory(9, 1)))).rationale).toMatch(/random startup: 9 of 10/);
    const modelled = await proposer.propose(request(randomHistory(10, 1)));
    expect(modelled.rationale).toMatch(/TPE over 10 trials \(1 good: accuracy >= /);
    expect(modelled.source).toBe('tpe');
  });

  it('steers away from where trainings failed', async () => {
    // Every training in the top third of learning rates failed; the rest all reached 0.8.
    const trials = randomHistory(40, 21);
    const rates = trials.map((t) => t.configuration.learningRate).sort((a, b) => a - b);
    const threshold = rates[Math.floor(rates.length * (2 / 3))]!;
    const history = trials.map(({ configuration }): TrialRecord =>
      configuration.learningRate >= threshold
        ? { configuration, status: 'failed' }
        : { configuration, status: 'succeeded', value: 0.8 },
    );
    const highRateShare = async (proposer: Proposer) => {
      let high = 0;
      for (let seed = 1; seed <= 30; seed += 1) {
        if ((await proposer.propose(request(history, seed))).configuration.learningRate >= threshold) high += 1;
      }
      return high / 30;
    };
    const tpe = await highRateShare(new TpeProposer({ startupConfigurations: [] }));
    const random = await highRateShare(new RandomProposer());
    expect(tpe).toBeLessThan(random / 2);
  });

  it('keeps finding new configurations in a small space until none is left, then gives up', async () => {
    // 3 activations × 3 optimizers × batch norm on/off = 18 configurations in all.
    const searchSpace = createSearchSpace({
      hiddenLayers: { min: 1, max: 1 },
      units: { min: 64, max: 64 },
      activations: ['relu', 'tanh', 'elu'],
      dropout: { min: 0, max: 0 },
      l2: null,
      momentum: { min: 0.9, max: 0.9 },
      learningRate: { min: 0.001, max: 0.001 },
      batchSize: { min: 32, max: 32 },
      maxEpochs: { min: 100, max: 100 },
      patience: { min: 10, max: 10 },
    });
    const proposer = new TpeProposer({ searchSpace, startupTrials: 3, maxAttempts: 300 });
    const history = await runSearch(proposer, accuracyObjective, { trials: 18, seed: 5 });
    expect(new Set(history.map((t) => JSON.stringify(t.configuration))).size).toBe(18);
    await expect(proposer.propose(request(history))).rejects.toBeInstanceOf(SearchSpaceExhaustedError);
  });

  it('refuses bad options', () => {
    expect(() => new TpeProposer({ candidates: 0 })).toThrow(RangeError);
    expect(() => new TpeProposer({ startupTrials: 2.5 })).toThrow(RangeError);
    expect(() => new TpeProposer({ priorWeight: 0 })).toThrow(RangeError);
  });

  it("splits like Optuna's default: 10 % good, at most 25", () => {
    expect([1, 10, 11, 30, 250, 1000].map(defaultGamma)).toEqual([1, 1, 2, 3, 25, 25]);
  });
});

describe('TPE startup on a dataset with no history', () => {
  it('proposes the well-tried defaults first, in order, then explores', async () => {
    const proposer = new TpeProposer();
    const history: { configuration: ModelConfiguration; status: 'succeeded'; value: number }[] = [];
    const proposals = [];
    for (let i = 0; i < 4; i += 1) {
      const proposal = await proposer.propose({ metric: 'accuracy', direction: 'maximize', history, seed: i });
      proposals.push(proposal);
      history.push({ configuration: proposal.configuration, status: 'succeeded', value: 0.5 });
    }
    expect(proposals.slice(0, 3).map((p) => p.configuration)).toEqual(STARTUP_CONFIGURATIONS);
    expect(proposals[0]!.rationale).toMatch(/^a well-tried default/);
    expect(proposals[3]!.rationale).toMatch(/^random startup/);
  });
});

// TPE (with 10 and with 5 random startup trials) against random search on the synthetic
// objectives: best value after 10, 20, 30 and 50 trials over 20 seeds. (Five startup trials
// won on the rmse-like objective and lost on the accuracy-like one: the default stays 10.)
// Prints a table, then one JSON line per objective × proposer × budget.
// Run: npx tsx libs/proposers/bench/tpe-vs-random.ts
import type { Proposer } from '../src/proposer.ts';
import { RandomProposer } from '../src/random.ts';
import {
  accuracyObjective,
  bestAfter,
  quantile,
  rmseObjective,
  runSearch,
  type SyntheticObjective,
} from '../src/synthetic.ts';
import { TpeProposer } from '../src/tpe.ts';

const SEEDS = 20;
const BUDGETS = [10, 20, 30, 50] as const;
const OBJECTIVES: readonly SyntheticObjective[] = [accuracyObjective, rmseObjective];
// TPE starts from random here, as random search does: the comparison is of the two searches.
// Two startup sizes, since the product's budgets (tens of trainings) make that choice matter.
const PROPOSERS: readonly { label: string; make: () => Proposer }[] = [
  { label: 'random', make: () => new RandomProposer() },
  ...[10, 5].map((startupTrials) => ({
    label: `tpe/${startupTrials}`,
    make: () => new TpeProposer({ startupConfigurations: [], startupTrials }),
  })),
];

interface Result {
  objective: string;
  direction: string;
  proposer: string;
  trials: number;
  seeds: number;
  median: number;
  p25: number;
  p75: number;
  secondsPerRun: number;
}

const results: Result[] = [];
for (const objective of OBJECTIVES) {
  for (const { label, make } of PROPOSERS) {
    const proposer = make();
    const bests = new Map<number, number[]>(BUDGETS.map((k) => [k, []]));
    const started = performance.now();
    for (let seed = 1; seed <= SEEDS; seed += 1) {
      const history = await runSearch(proposer, objective, { trials: Math.max(...BUDGETS), seed });
      for (const k of BUDGETS) bests.get(k)!.push(bestAfter(history, k, objective.direction));
    }
    const secondsPerRun = (performance.now() - started) / 1000 / SEEDS;
    for (const k of BUDGETS) {
      const values = bests.get(k)!;
      results.push({
        objective: objective.name,
        direction: objective.direction,
        proposer: label,
        trials: k,
        seeds: SEEDS,
        median: quantile(values, 0.5),
        p25: quantile(values, 0.25),
        p75: quantile(values, 0.75),
        secondsPerRun,
      });
    }
  }
}

const f = (x: number) => x.toFixed(4);
console.log(`best value after N trials, ${SEEDS} seeds: median [p25, p75]`);
console.log(['objective'.padEnd(24), 'proposer', ...BUDGETS.map((k) => `N=${k}`.padEnd(26))].join(' | '));
for (const objective of OBJECTIVES) {
  for (const { label: name } of PROPOSERS) {
    const row = BUDGETS.map((k) => {
      const r = results.find((x) => x.objective === objective.name && x.proposer === name && x.trials === k)!;
      return `${f(r.median)} [${f(r.p25)}, ${f(r.p75)}]`.padEnd(26);
    });
    console.log([`${objective.name} (${objective.direction})`.padEnd(24), name.padEnd(8), ...row].join(' | '));
  }
}
for (const result of results) console.log(JSON.stringify(result));

import { describe, expect, it } from 'vitest';
import { BOUNDS } from './bounds.ts';
import { InvalidConfigurationError } from './invalid-configuration-error.ts';
import { parseModelConfiguration, safeParseModelConfiguration } from './parse.ts';

const minimal = {
  hiddenLayers: [{ units: 64, activation: 'relu' }],
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  maxEpochs: 100,
};

function withLayer(field: string, value: unknown) {
  return { ...minimal, hiddenLayers: [{ ...minimal.hiddenLayers[0], [field]: value }] };
}

function issuesOf(value: unknown) {
  const result = safeParseModelConfiguration(value);
  if (result.success) throw new Error('expected the configuration to be rejected');
  return result.issues;
}

const layerNumbers = ['units', 'dropout', 'l2'] as const;
const topNumbers = ['learningRate', 'momentum', 'batchSize', 'maxEpochs', 'patience'] as const;

describe('parseModelConfiguration', () => {
  it('applies every default a configuration may leave out', () => {
    const parsed = parseModelConfiguration(minimal);
    expect(parsed.hiddenLayers[0]).toEqual({
      units: 64,
      activation: 'relu',
      dropout: BOUNDS.dropout.default,
      batchNorm: BOUNDS.batchNorm.default,
      l2: BOUNDS.l2.default,
    });
    expect(parsed.momentum).toBe(BOUNDS.momentum.default);
    expect(parsed.patience).toBe(BOUNDS.patience.default);
  });

  it.each(layerNumbers)('accepts layer %s at both bounds and rejects it just outside', (field) => {
    const { min, max } = BOUNDS[field];
    expect(safeParseModelConfiguration(withLayer(field, min)).success).toBe(true);
    expect(safeParseModelConfiguration(withLayer(field, max)).success).toBe(true);
    const step = 'integer' in BOUNDS[field] ? 1 : 1e-9;
    expect(issuesOf(withLayer(field, min - step)).map((i) => i.path)).toEqual([`hiddenLayers.0.${field}`]);
    expect(issuesOf(withLayer(field, max + step)).map((i) => i.path)).toEqual([`hiddenLayers.0.${field}`]);
  });

  it.each(topNumbers)('accepts %s at both bounds and rejects it just outside', (field) => {
    const { min, max } = BOUNDS[field];
    // Room for patience at its upper bound, which must not exceed maxEpochs.
    const base = { ...minimal, optimizer: 'sgd', maxEpochs: BOUNDS.maxEpochs.max, patience: 1 };
    const step = 'integer' in BOUNDS[field] ? 1 : 1e-9;
    for (const ok of [min, max]) {
      const config = { ...base, [field]: ok };
      expect(safeParseModelConfiguration(config).success, `${field}=${ok}`).toBe(true);
    }
    for (const bad of [min - step, max + step]) {
      expect(issuesOf({ ...base, [field]: bad }).map((i) => i.path)).toContain(field);
    }
  });

  it('rejects fractional values for integer fields', () => {
    expect(issuesOf(withLayer('units', 64.5))).toEqual([
      { path: 'hiddenLayers.0.units', message: 'must be an integer (got 64.5)' },
    ]);
    expect(issuesOf({ ...minimal, batchSize: 31.5 }).map((i) => i.path)).toEqual(['batchSize']);
  });

  it('rejects non-finite numbers', () => {
    expect(issuesOf({ ...minimal, learningRate: Number.POSITIVE_INFINITY }).map((i) => i.path)).toEqual([
      'learningRate',
    ]);
    expect(issuesOf(withLayer('dropout', Number.NaN)).map((i) => i.path)).toEqual(['hiddenLayers.0.dropout']);
  });

  it('bounds the number of hidden layers', () => {
    const layer = minimal.hiddenLayers[0];
    expect(issuesOf({ ...minimal, hiddenLayers: [] }).map((i) => i.path)).toEqual(['hiddenLayers']);
    const tooMany = Array.from({ length: BOUNDS.hiddenLayers.max + 1 }, () => layer);
    expect(issuesOf({ ...minimal, hiddenLayers: tooMany })[0]?.message).toMatch(
      new RegExp(`at most ${BOUNDS.hiddenLayers.max} items`),
    );
    const most = Array.from({ length: BOUNDS.hiddenLayers.max }, () => layer);
    expect(parseModelConfiguration({ ...minimal, hiddenLayers: most }).hiddenLayers).toHaveLength(
      BOUNDS.hiddenLayers.max,
    );
  });

  it('accepts every listed activation and optimizer and nothing else', () => {
    for (const activation of BOUNDS.activations) {
      expect(parseModelConfiguration(withLayer('activation', activation)).hiddenLayers[0]?.activation).toBe(
        activation,
      );
    }
    for (const optimizer of BOUNDS.optimizers) {
      expect(parseModelConfiguration({ ...minimal, optimizer }).optimizer).toBe(optimizer);
    }
    const [issue] = issuesOf(withLayer('activation', 'softmax'));
    expect(issue?.path).toBe('hiddenLayers.0.activation');
    expect(issue?.message).toContain('hardSigmoid');
    expect(issue?.message).toContain('(got "softmax")');
    expect(issuesOf({ ...minimal, optimizer: 'adagrad' }).map((i) => i.path)).toEqual(['optimizer']);
  });

  it('rejects unknown fields at their own path', () => {
    const issues = issuesOf({ ...withLayer('unit', 64), outputUnits: 3 });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'hiddenLayers.0.unit', message: 'unknown field' },
        { path: 'outputUnits', message: 'unknown field' },
      ]),
    );
  });

  it('rejects a patience longer than maxEpochs, naming both', () => {
    expect(parseModelConfiguration({ ...minimal, maxEpochs: 10, patience: 10 }).patience).toBe(10);
    expect(issuesOf({ ...minimal, maxEpochs: 10, patience: 11 })).toEqual([
      { path: 'patience', message: 'must not exceed maxEpochs (10) (got 11)' },
    ]);
  });

  it('says which field is missing', () => {
    const { learningRate: _omitted, ...rest } = minimal;
    expect(issuesOf(rest)).toEqual([{ path: 'learningRate', message: 'is required' }]);
  });

  it('throws one error naming every bad field with the value it had', () => {
    const bad = { ...withLayer('units', 4096), batchSize: 'big' };
    let thrown: unknown;
    try {
      parseModelConfiguration(bad);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidConfigurationError);
    const error = thrown as InvalidConfigurationError;
    expect(error.name).toBe('InvalidConfigurationError');
    expect(error.message).toContain('hiddenLayers.0.units: must be at most 1024 (got 4096)');
    expect(error.message).toContain('batchSize: must be a number, not string (got "big")');
    expect(error.issues.map((i) => i.path)).toEqual(['hiddenLayers.0.units', 'batchSize']);
  });

  it('rejects values that are not objects', () => {
    for (const value of [null, 'adam', [minimal], 42]) {
      expect(issuesOf(value)).toHaveLength(1);
      expect(() => parseModelConfiguration(value)).toThrow(InvalidConfigurationError);
    }
  });
});

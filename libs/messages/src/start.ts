import { z } from 'zod';
import { METRICS, MetricName, Task } from './metrics.ts';
import { formatIssues } from './format-issues.ts';
import { InvalidMessageError } from './errors/invalid-message-error.ts';

export const START_TYPE = 'ADAPTIVE_PIPELINE_START';

const METRIC_ALIASES: Record<string, MetricName> = {
  auc: 'roc_auc',
  'roc-auc': 'roc_auc',
  rocauc: 'roc_auc',
  f1_score: 'f1',
  'f1-score': 'f1',
  acc: 'accuracy',
};

function normaliseMetric(raw: string): string {
  const name = raw.trim().toLowerCase();
  return METRIC_ALIASES[name] ?? name;
}

const KpiObject = z.strictObject({
  metric: z.string().transform(normaliseMetric).pipe(MetricName),
  target: z.number().refine(Number.isFinite, { message: 'must be a finite number' }),
});

/** `"accuracy>=0.97"`, `"rmse <= 42.5"`: the operator must point the metric's way. */
const KPI_TEXT = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/;

const KpiText = z.string().transform((text, ctx) => {
  const match = KPI_TEXT.exec(text);
  if (!match) {
    ctx.addIssue({
      code: 'custom',
      message: `expected "<metric>>=<target>" or "<metric><=<target>", for example "accuracy>=0.97"`,
      input: text,
    });
    return z.NEVER;
  }
  const [, rawMetric = '', op = '', rawTarget = ''] = match;
  const metric = MetricName.safeParse(normaliseMetric(rawMetric));
  if (!metric.success) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown metric "${rawMetric}"; one of ${MetricName.options.join(', ')}`,
      input: text,
    });
    return z.NEVER;
  }
  const wanted = METRICS[metric.data].direction === 'maximize' ? '>' : '<';
  if (!op.startsWith(wanted)) {
    ctx.addIssue({
      code: 'custom',
      message: `${metric.data} is ${wanted === '>' ? 'maximised' : 'minimised'}, so write "${metric.data}${wanted}=${rawTarget}"`,
      input: text,
    });
    return z.NEVER;
  }
  return { metric: metric.data, target: Number(rawTarget) };
});

/** The KPI as stored and judged: the validation metric must reach `target` in its direction. */
export const Kpi = z
  .union([KpiText, KpiObject], { error: 'expected {"metric","target"} or a string like "accuracy>=0.97"' })
  .superRefine((kpi, ctx) => {
    const { min, max } = METRICS[kpi.metric];
    if (kpi.target < min || kpi.target > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `${kpi.metric} target must lie in [${min}, ${max === Number.MAX_VALUE ? '∞' : max}]`,
        input: kpi.target,
      });
    }
  });
export type Kpi = z.infer<typeof Kpi>;

export const DatasetRef = z.union(
  [
    z.string().min(1).transform((uri) => ({ uri })),
    z.strictObject({
      uri: z.string().min(1, 'must name a dataset, e.g. "builtin:iris" or "./data.csv"'),
      target: z.string().min(1).optional(),
    }),
  ],
  { error: 'expected {"uri": "...", "target"?: "..."} or a URI string' },
);
export type DatasetRef = z.infer<typeof DatasetRef>;

export const Budget = z.strictObject({
  maxIterations: z.int().min(1).max(1000).default(20),
  maxMinutes: z.number().positive().max(7 * 24 * 60).optional(),
  maxConsecutiveFailures: z.int().min(1).max(100).default(5),
  maxLlmTokens: z.int().positive().optional(),
});
export type Budget = z.infer<typeof Budget>;

/** How configurations are proposed; `auto` means `llm` when an LLM is configured, else `tpe`. */
export const Strategy = z.enum(['auto', 'llm', 'tpe', 'random', 'hybrid']);
export type Strategy = z.infer<typeof Strategy>;

export const SplitSpec = z
  .strictObject({
    train: z.number().gt(0).lt(1),
    validation: z.number().gt(0).lt(1),
    test: z.number().gt(0).lt(1),
  })
  .refine((s) => Math.abs(s.train + s.validation + s.test - 1) < 1e-9, {
    message: 'train + validation + test must add up to 1',
  });
export type SplitSpec = z.infer<typeof SplitSpec>;

export const DEFAULT_SPLIT: SplitSpec = { train: 0.7, validation: 0.15, test: 0.15 };

/**
 * The start message as a person types it into `kafka-console-producer`: small and lenient in
 * form (shorthand strings, defaults) but strict about unknown fields, so a typo is reported
 * instead of silently ignored.
 */
export const AdaptivePipelineStart = z.strictObject({
  type: z.literal(START_TYPE).default(START_TYPE),
  requestId: z.string().min(1).max(200).optional(),
  kpi: Kpi,
  dataset: DatasetRef,
  budget: Budget.default({ maxIterations: 20, maxConsecutiveFailures: 5 }),
  strategy: Strategy.default('auto'),
  task: Task.optional(),
  seed: z.int().min(0).max(2 ** 31 - 1).default(42),
  split: SplitSpec.default(DEFAULT_SPLIT),
  parallelism: z.int().min(1).max(16).default(1),
  schedule: z.string().min(1).optional(),
});
export type AdaptivePipelineStart = z.infer<typeof AdaptivePipelineStart>;
/** What a person may type: every defaulted field optional, shorthands allowed. */
export type AdaptivePipelineStartInput = z.input<typeof AdaptivePipelineStart>;

/**
 * Parses a start message from JSON text or a value. Throws `InvalidMessageError` whose message
 * names each bad field and the value it had.
 */
export function parseStartMessage(input: unknown): AdaptivePipelineStart {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new InvalidMessageError(`start message is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = AdaptivePipelineStart.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    throw new InvalidMessageError(`invalid start message: ${formatIssues(parsed.error)}`, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  const kpiTask = METRICS[parsed.data.kpi.metric].task;
  if (parsed.data.task && parsed.data.task !== kpiTask) {
    throw new InvalidMessageError(
      `invalid start message: task: "${parsed.data.task}" does not fit kpi.metric "${parsed.data.kpi.metric}", a ${kpiTask} metric`,
    );
  }
  return parsed.data;
}

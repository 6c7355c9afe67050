import { METRICS, type MetricName, type PipelineFinished } from '@apo/messages';
import type { ConfigurationRecord, ResultRecord } from '@apo/store';

type Layer = { units: number; activation: string };
type Config = { hiddenLayers: Layer[]; learningRate: number; batchSize: number; optimizer: string };

/** A metric value as the tables show it: four decimals, `-` when there is none. */
export const formatMetric = (v: number | undefined | null) => (v === undefined || v === null ? '-' : v.toFixed(4));

/** The table of every configuration a pipeline tried, in iteration order. */
export function iterationTable(metric: MetricName, configurations: ConfigurationRecord[], results: ResultRecord[]): string {
  const byConfiguration = new Map(results.map((r) => [r.configurationId, r]));
  const header = ['iter', 'layers', 'units', 'activation', 'optimizer', 'lr', 'batch', `val ${metric}`, `test ${metric}`, 'epochs', 'seconds', 'source', 'status'];
  const rows = [...configurations]
    .sort((a, b) => a.iteration - b.iteration)
    .map((c) => {
      const config = c.configuration as unknown as Config;
      const r = byConfiguration.get(c.id);
      const activations = [...new Set(config.hiddenLayers.map((l) => l.activation))].join('/');
      return [
        String(c.iteration),
        String(c.layerCount),
        config.hiddenLayers.map((l) => l.units).join('-'),
        activations,
        config.optimizer,
        config.learningRate.toExponential(1),
        String(config.batchSize),
        formatMetric(r?.validation?.[metric]),
        formatMetric(r?.test?.[metric]),
        r?.epochsRun === null || r?.epochsRun === undefined ? '-' : String(r.epochsRun),
        r?.trainingMs === null || r?.trainingMs === undefined ? '-' : (r.trainingMs / 1000).toFixed(1),
        c.source,
        r ? (r.status === 'failed' ? `failed: ${r.error?.message ?? ''}`.slice(0, 60) : 'ok') : 'not trained',
      ];
    });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The closing lines: outcome, reason, best configuration and its honest test number. */
export function finishedSummary(finished: PipelineFinished): string {
  const { metric } = finished.kpi;
  const lines = [
    `outcome: ${finished.outcome}`,
    `reason: ${finished.reason}`,
    `iterations: ${finished.iterationsUsed}, ${(finished.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (finished.llmTokens) lines.push(`llm tokens: ${finished.llmTokens.toLocaleString('en-US')} (input + output)`);
  if (finished.best) {
    const direction = METRICS[metric].direction === 'maximize' ? '>=' : '<=';
    lines.push(
      `best: iteration ${finished.best.iteration}, validation ${metric} ${formatMetric(finished.best.validation[metric])} (target ${direction} ${finished.kpi.target}), test ${metric} ${formatMetric(finished.best.test[metric])}`,
      `model: ${finished.best.modelUri}`,
    );
  }
  return lines.join('\n');
}

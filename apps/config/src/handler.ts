import { METRICS, type JsonObject, type MessageType } from '@apo/messages';
import { formatConfiguration, summarizeHistory, summaryText, type HistoryEntry } from '@apo/model-config';
import type { StageHandlers } from '@apo/runtime';
import type { HistoryEntry as StoredEntry, Store } from '@apo/store';

/** One attempt of the pipeline asking, in iteration order. */
export type Attempt = {
  iteration: number;
  layerCount: number;
  configuration: JsonObject;
  status: 'succeeded' | 'failed' | 'pending';
  value?: number;
  error?: string;
};

function toEntry(stored: StoredEntry, metric: string): HistoryEntry | null {
  const { configuration, result } = stored;
  if (!result) return null;
  const value = result.validation?.[metric as keyof typeof result.validation];
  return {
    configuration: configuration.configuration,
    source: configuration.source,
    pipelineId: configuration.pipelineId,
    iteration: configuration.iteration,
    status: result.status,
    ...(typeof value === 'number' ? { value } : {}),
    ...(result.error ? { error: result.error.message } : {}),
  };
}

function attemptLine(a: Attempt, metric: string): string {
  let notation: string;
  try {
    notation = formatConfiguration(a.configuration as never);
  } catch {
    notation = JSON.stringify(a.configuration);
  }
  const outcome =
    a.status === 'succeeded' ? `${metric} ${a.value?.toPrecision(4) ?? '?'}` : a.status === 'failed' ? `FAILED: ${a.error ?? ''}` : 'not finished';
  return `  #${a.iteration} ${notation} -> ${outcome}`;
}

/** A repeated request reads the history again and replies with the same id: nothing to record. */
export const CONFIG_IDEMPOTENT: readonly MessageType[] = ['GET_CONFIGURATION'];

/**
 * The config stage: loads every configuration tried on the dataset with its result, grouped by
 * layer count, plus this pipeline's own attempts in order, and hands the summary (as data and as
 * compact text) to the proposer.
 */
export function configHandlers(deps: { store: Store; topK?: number }): StageHandlers {
  return {
    GET_CONFIGURATION: async (message, ctx) => {
      const { datasetKey, kpi } = message.payload;
      const groups = await deps.store.historyByLayerCount(datasetKey);
      const all = groups.flatMap((g) => g.entries);
      const entries = all.map((e) => toEntry(e, kpi.metric)).filter((e): e is HistoryEntry => e !== null);
      const summary = summarizeHistory(entries, {
        metric: kpi.metric,
        direction: METRICS[kpi.metric].direction,
        ...(deps.topK !== undefined ? { topK: deps.topK } : {}),
      });
      const attempts: Attempt[] = all
        .filter((e) => e.configuration.pipelineId === message.pipelineId)
        .sort((a, b) => a.configuration.iteration - b.configuration.iteration)
        .map(({ configuration, result }) => {
          const value = result?.validation?.[kpi.metric];
          return {
            iteration: configuration.iteration,
            layerCount: configuration.layerCount,
            configuration: configuration.configuration,
            status: result?.status ?? 'pending',
            ...(typeof value === 'number' ? { value } : {}),
            ...(result?.error ? { error: result.error.message } : {}),
          };
        });
      const own = attempts.length
        ? `\nThis pipeline so far (${attempts.length}):\n${attempts.map((a) => attemptLine(a, kpi.metric)).join('\n')}`
        : '\nThis pipeline has tried nothing yet.';
      ctx.logger.info({ earlier: summary.total, groups: summary.groups.length, own: attempts.length }, 'history summarised');
      return [
        ctx.reply(
          'GENERATE_NEW_LLM_CONFIGURATION',
          {
            ...message.payload,
            history: { summary, attempts } as unknown as JsonObject,
            historyText: `${summaryText(summary)}${own}`,
          },
          { id: `${message.id}/GENERATE_NEW_LLM_CONFIGURATION` },
        ),
      ];
    },
  };
}

import { formatConfiguration } from '@apo/model-config';
import type { AnyMessage, MetricName } from '@apo/messages';
import type { TrainingProgress } from '@apo/predict';

/** One line of what a stage just did, or null for messages not worth a line. */
export function progressLine(message: AnyMessage, metric: MetricName): string | null {
  const it = `iteration ${message.iteration}`;
  switch (message.type) {
    case 'GET_CONFIGURATION':
      return `${it}: asking ${message.payload.strategy} for a configuration`;
    case 'NEW_LLM_CONFIGURATION_READY': {
      let notation: string;
      try {
        notation = formatConfiguration(message.payload.configuration as never);
      } catch {
        notation = JSON.stringify(message.payload.configuration);
      }
      const { llm } = message.payload;
      const cost = llm ? ` (${llm.model}: ${llm.inputTokens + llm.outputTokens} tokens, ${(llm.latencyMs / 1000).toFixed(1)} s)` : '';
      return `${it}: ${message.payload.source} proposes ${notation}${cost}`;
    }
    case 'MODEL_READY':
      return `${it}: model built (${message.payload.parameterCount.toLocaleString('en-US')} parameters)`;
    case 'FEATURES_READY': {
      const { train, validation, test } = message.payload.rows;
      return `${it}: features ready (${train}/${validation}/${test} rows${message.payload.reused ? ', reused' : ''})`;
    }
    case 'PREDICTION_READY': {
      const { validation, test, epochsRun, trainingMs } = message.payload;
      const v = validation[metric];
      const t = test[metric];
      return `${it}: validation ${metric} ${v?.toFixed(4) ?? '-'}, test ${t?.toFixed(4) ?? '-'} (${epochsRun} epochs, ${(trainingMs / 1000).toFixed(1)} s)`;
    }
    case 'STAGE_FAILED':
      return `${it}: ${message.payload.stage} failed: ${message.payload.error.message}`;
    default:
      return null;
  }
}

/** A one-line bar for the epochs of the training in progress (terminals only). */
export function epochBar(p: TrainingProgress, width = 24): string {
  const done = Math.min(width, Math.round((p.epoch / Math.max(1, p.maxEpochs)) * width));
  return `  [${'#'.repeat(done)}${'.'.repeat(width - done)}] epoch ${p.epoch}/${p.maxEpochs} loss ${p.loss.toFixed(4)} val ${p.valLoss.toFixed(4)}`;
}

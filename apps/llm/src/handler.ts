import { createHash } from 'node:crypto';
import { METRICS, PipelineError, type Strategy } from '@apo/messages';
import { canonicalize, configurationHash, findNearDuplicate, parseModelConfiguration, type ModelConfiguration } from '@apo/model-config';
import type { Proposer, TrialRecord } from '@apo/proposers';
import type { StageHandlers } from '@apo/runtime';
import { DuplicateRecordError, type ConfigurationRecord, type Store } from '@apo/store';

/** What the llm stage needs from its composition root. */
export interface LlmStageDeps {
  store: Store;
  /** The proposer behind each strategy the deployment offers. */
  proposers: Partial<Record<Exclude<Strategy, 'auto'>, Proposer>>;
  now?: () => Date;
}

/** How many times a proposal that loses a race for its hash is replaced before giving up. */
const MAX_PROPOSALS = 4;

/** The configuration id of a pipeline's iteration: one per iteration, so a redelivery reuses it. */
export const configurationIdFor = (pipelineId: string, iteration: number) => `${pipelineId}-it${iteration}`;

/** A seed fixed by pipeline and iteration, so the same request proposes the same configuration. */
function seedFor(pipelineId: string, iteration: number, attempt: number): number {
  return createHash('sha256').update(`${pipelineId}/${iteration}/${attempt}`).digest().readUInt32BE(0);
}

async function historyOf(store: Store, datasetKey: string, metric: string): Promise<TrialRecord[]> {
  const groups = await store.historyByLayerCount(datasetKey);
  const entries = groups
    .flatMap((g) => g.entries)
    .sort((a, b) => a.configuration.createdAt.localeCompare(b.configuration.createdAt));
  const trials: TrialRecord[] = [];
  for (const { configuration, result } of entries) {
    let parsed: ModelConfiguration;
    try {
      parsed = parseModelConfiguration(configuration.configuration);
    } catch {
      continue; // tried under other bounds; no longer in the space
    }
    const value = result?.validation?.[metric as keyof NonNullable<typeof result.validation>];
    // A configuration without a result is in flight elsewhere: it must not be proposed again,
    // and it tells the optimizer nothing yet, so it counts as not succeeded.
    trials.push({
      configuration: parsed,
      status: result?.status === 'succeeded' && typeof value === 'number' ? 'succeeded' : 'failed',
      ...(typeof value === 'number' ? { value } : {}),
      source: configuration.source,
    });
  }
  return trials;
}

/**
 * The llm stage: asks the pipeline's proposer for the next configuration, checks it against
 * the schema and everything tried on the dataset (exact and near duplicates), saves it, and
 * announces it. A request seen again announces the configuration saved the first time.
 */
export function llmHandlers(deps: LlmStageDeps): StageHandlers {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    GENERATE_NEW_LLM_CONFIGURATION: async (message, ctx) => {
      const { datasetKey, strategy, kpi } = message.payload;
      const id = configurationIdFor(message.pipelineId, message.iteration);
      const announce = (record: ConfigurationRecord) => [
        ctx.reply(
          'NEW_LLM_CONFIGURATION_READY',
          {
            configurationId: record.id,
            configuration: record.configuration,
            hash: record.hash,
            layerCount: record.layerCount,
            source: record.source,
            ...(record.rationale ? { rationale: record.rationale } : {}),
          },
          { id: `${message.id}/NEW_LLM_CONFIGURATION_READY` },
        ),
      ];
      const existing = await store.getConfiguration(id);
      if (existing) return announce(existing);

      const proposer = deps.proposers[strategy];
      if (!proposer) {
        throw new PipelineError(
          `strategy "${strategy}" is not available here; available: ${Object.keys(deps.proposers).join(', ')}`,
          'STRATEGY_UNAVAILABLE',
          false,
        );
      }
      const history = await historyOf(store, datasetKey, kpi.metric);
      for (let attempt = 0; attempt < MAX_PROPOSALS; attempt += 1) {
        const proposal = await proposer.propose({
          metric: kpi.metric,
          direction: METRICS[kpi.metric].direction,
          history,
          seed: seedFor(message.pipelineId, message.iteration, attempt),
          context: { profile: message.payload.profile, historyText: message.payload.historyText, history: message.payload.history },
        });
        const configuration = canonicalize(parseModelConfiguration(proposal.configuration));
        const near = findNearDuplicate(configuration, history.map((t) => t.configuration));
        if (near) {
          ctx.logger.warn({ attempt, source: proposal.source }, 'proposal repeats a tried configuration; asking again');
          history.push({ configuration, status: 'failed', source: proposal.source });
          continue;
        }
        try {
          const { record } = await store.saveConfiguration({
            id,
            pipelineId: message.pipelineId,
            iteration: message.iteration,
            datasetKey,
            layerCount: configuration.hiddenLayers.length,
            configuration: configuration as unknown as Record<string, unknown>,
            hash: configurationHash(configuration),
            source: proposal.source as ConfigurationRecord['source'],
            rationale: proposal.rationale ?? null,
            llm: null,
            note: attempt > 0 ? `proposal ${attempt + 1}: earlier ones repeated tried configurations` : null,
            createdAt: now().toISOString(),
          });
          ctx.logger.info({ configurationId: id, source: record.source, layers: record.layerCount }, 'configuration proposed');
          return announce(record);
        } catch (err) {
          // Another pipeline on the same dataset saved this configuration first.
          if (!(err instanceof DuplicateRecordError)) throw err;
          history.push({ configuration, status: 'failed', source: proposal.source });
        }
      }
      throw new PipelineError(
        `the ${strategy} proposer repeated tried configurations ${MAX_PROPOSALS} times`,
        'NO_NEW_CONFIGURATION',
        false,
      );
    },
  };
}

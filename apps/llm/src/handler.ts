import { createHash } from 'node:crypto';
import { ConfigurationSource, METRICS, PipelineError, type MessageType, type Strategy } from '@apo/messages';
import { canonicalize, configurationHash, findNearDuplicate, parseModelConfiguration, type ModelConfiguration } from '@apo/model-config';
import type { Proposer, TrialRecord } from '@apo/proposers';
import type { Logger, StageHandlers } from '@apo/runtime';
import { DuplicateRecordError, type ConfigurationRecord, type LlmUsage, type Store } from '@apo/store';

/** What the llm stage needs from its composition root. */
export interface LlmStageDeps {
  store: Store;
  /**
   * The proposer behind each strategy the deployment offers. `llm` is the LLM proposer, present
   * only when an LLM is configured; `hybrid` mixes it with `tpe` (see `hybridAsksLlm`).
   */
  proposers: Partial<Record<'llm' | 'tpe' | 'random', Proposer>>;
  now?: () => Date;
}

/** Iterations of a `hybrid` pipeline that always ask the LLM; after them, odd iterations do. */
export const HYBRID_LLM_FIRST = 3;

/**
 * The `hybrid` rule: the LLM proposes iterations 1 to `HYBRID_LLM_FIRST`, then every odd
 * iteration; TPE the even ones after that. LLMs help most early, when TPE has too few trials to
 * model (its first 10 are defaults and random draws) and the LLM's prior knowledge of sensible
 * networks is worth most; later TPE exploits the history well and costs nothing, while the
 * LLM's turn every other iteration still reads the whole history and can leave a local region.
 */
export function hybridAsksLlm(iteration: number): boolean {
  return iteration <= HYBRID_LLM_FIRST || iteration % 2 === 1;
}

/** How many times a proposal that loses a race for its hash is replaced before giving up. */
const MAX_PROPOSALS = 4;

/** The configuration id of a pipeline's iteration: one per iteration, so a redelivery reuses it. */
export const configurationIdFor = (pipelineId: string, iteration: number) => `${pipelineId}-it${iteration}`;

/** A repeated request finds the configuration saved under its iteration's id and announces it again. */
export const LLM_IDEMPOTENT: readonly MessageType[] = ['GENERATE_NEW_LLM_CONFIGURATION'];

/** A seed fixed by pipeline and iteration, so the same request proposes the same configuration. */
function seedFor(pipelineId: string, iteration: number, attempt: number): number {
  return createHash('sha256').update(`${pipelineId}/${iteration}/${attempt}`).digest().readUInt32BE(0);
}

/**
 * What the proposer learns from (`trials`), and every configuration it must not repeat
 * (`tried`). A configuration without a result whose pipeline has finished was let go untrained
 * (another trial met the KPI, or a cancel): it is never proposed again, but it says nothing of
 * how good it is, so the optimizer does not see it.
 */
async function historyOf(store: Store, datasetKey: string, metric: string, pipelineId: string): Promise<{ trials: TrialRecord[]; tried: ModelConfiguration[] }> {
  const groups = await store.historyByLayerCount(datasetKey);
  const entries = groups
    .flatMap((g) => g.entries)
    .sort((a, b) => a.configuration.createdAt.localeCompare(b.configuration.createdAt));
  const finished = new Map<string, Promise<boolean>>([[pipelineId, Promise.resolve(false)]]);
  const hasFinished = (id: string) => {
    let known = finished.get(id);
    if (!known) finished.set(id, (known = store.getPipeline(id).then((p) => p?.status === 'finished')));
    return known;
  };
  const trials: TrialRecord[] = [];
  const tried: ModelConfiguration[] = [];
  for (const { configuration, result } of entries) {
    let parsed: ModelConfiguration;
    try {
      parsed = parseModelConfiguration(configuration.configuration);
    } catch {
      continue; // tried under other bounds; no longer in the space
    }
    tried.push(parsed);
    if (!result && (await hasFinished(configuration.pipelineId))) continue;
    const value = result?.validation?.[metric as keyof NonNullable<typeof result.validation>];
    // A configuration without a result is in flight elsewhere: it must not be proposed again,
    // and it tells the optimizer nothing yet, so it counts as not succeeded.
    trials.push({
      configuration: parsed,
      status: result?.status === 'succeeded' && typeof value === 'number' ? 'succeeded' : 'failed',
      ...(typeof value === 'number' ? { value } : {}),
      source: configuration.source,
      ...(result?.error ? { error: result.error.message } : {}),
    });
  }
  return { trials, tried };
}

/**
 * The llm stage: asks the pipeline's proposer for the next configuration, checks it against
 * the schema and everything tried on the dataset (exact and near duplicates), saves it, and
 * announces it. A request seen again announces the configuration saved the first time.
 */
export function llmHandlers(deps: LlmStageDeps): StageHandlers {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  let warnedNoLlm = false;

  /** The proposer for this request, and why it is not the one the strategy names, if it is not. */
  function choose(strategy: Strategy, iteration: number, llmTokensLeft: number | undefined, logger: Logger): { proposer: Proposer; note: string | null } {
    const wantsLlm = strategy === 'llm' || (strategy === 'hybrid' && hybridAsksLlm(iteration));
    const name = strategy === 'hybrid' ? (wantsLlm ? 'llm' : 'tpe') : strategy === 'auto' ? 'tpe' : strategy;
    const tpe = deps.proposers.tpe;
    if (wantsLlm && tpe) {
      if (!deps.proposers.llm) {
        if (!warnedNoLlm) {
          warnedNoLlm = true;
          logger.warn(`no LLM is configured (ANTHROPIC_API_KEY is not set): strategy "${strategy}" proposes with tpe instead`);
        }
        return { proposer: tpe, note: `strategy ${strategy}: no LLM configured (ANTHROPIC_API_KEY unset), so TPE proposed` };
      }
      if (llmTokensLeft !== undefined && llmTokensLeft <= 0) {
        return { proposer: tpe, note: 'LLM token budget (budget.maxLlmTokens) spent, so TPE proposed' };
      }
    }
    const proposer = deps.proposers[name as keyof LlmStageDeps['proposers']];
    if (!proposer) {
      throw new PipelineError(
        `strategy "${strategy}" is not available here; available: ${Object.keys(deps.proposers).join(', ')}`,
        'STRATEGY_UNAVAILABLE',
        false,
      );
    }
    return { proposer, note: null };
  }

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
            ...(record.llm ? { llm: record.llm } : {}),
            ...(record.note ? { note: record.note } : {}),
          },
          { id: `${message.id}/NEW_LLM_CONFIGURATION_READY` },
        ),
      ];
      // Both at once: the history is read for nothing only when the request is a repeat.
      const [existing, { trials: history, tried }] = await Promise.all([
        store.getConfiguration(id),
        historyOf(store, datasetKey, kpi.metric, message.pipelineId),
      ]);
      if (existing) return announce(existing);

      const { proposer, note: chosen } = choose(strategy, message.iteration, message.payload.llmTokensLeft, ctx.logger);
      // Every LLM call made for this iteration counts, those of a rejected proposal included.
      let usage: LlmUsage | null = null;
      for (let attempt = 0; attempt < MAX_PROPOSALS; attempt += 1) {
        const proposal = await proposer.propose({
          metric: kpi.metric,
          direction: METRICS[kpi.metric].direction,
          history,
          seed: seedFor(message.pipelineId, message.iteration, attempt),
          context: { profile: message.payload.profile, kpi, historyText: message.payload.historyText, history: message.payload.history },
        });
        if (proposal.llm) usage = addUsage(usage, proposal.llm);
        const configuration = canonicalize(parseModelConfiguration(proposal.configuration));
        const near = findNearDuplicate(configuration, tried);
        if (near) {
          ctx.logger.warn({ attempt, source: proposal.source }, 'proposal repeats a tried configuration; asking again');
          history.push({ configuration, status: 'failed', source: proposal.source });
          tried.push(configuration);
          continue;
        }
        const source = ConfigurationSource.safeParse(proposal.source);
        const note = [chosen, proposal.note ?? null, attempt > 0 ? `proposal ${attempt + 1}: earlier ones repeated tried configurations` : null]
          .filter((n): n is string => n !== null)
          .join('; ');
        try {
          const { record } = await store.saveConfiguration({
            id,
            pipelineId: message.pipelineId,
            iteration: message.iteration,
            datasetKey,
            layerCount: configuration.hiddenLayers.length,
            configuration: configuration as unknown as Record<string, unknown>,
            hash: configurationHash(configuration),
            // A proposer's own name outside the known sources is stored as what it stands in for.
            source: source.success ? source.data : proposer === deps.proposers.llm ? 'llm' : 'tpe',
            rationale: proposal.rationale ?? null,
            llm: usage,
            note: note || null,
            createdAt: now().toISOString(),
          });
          const fields = { configurationId: id, source: record.source, layers: record.layerCount, llm: record.llm, note: record.note };
          if (record.source === 'tpe-fallback') ctx.logger.warn(fields, 'the LLM gave no usable proposal; TPE proposed');
          else ctx.logger.info(fields, 'configuration proposed');
          return announce(record);
        } catch (err) {
          // Another pipeline on the same dataset saved this configuration first.
          if (!(err instanceof DuplicateRecordError)) throw err;
          history.push({ configuration, status: 'failed', source: proposal.source });
          tried.push(configuration);
        }
      }
      throw new PipelineError(
        `the ${proposer.name} proposer repeated tried configurations ${MAX_PROPOSALS} times`,
        'NO_NEW_CONFIGURATION',
        false,
      );
    },
  };
}

function addUsage(total: LlmUsage | null, more: LlmUsage): LlmUsage {
  if (!total) return { ...more };
  return {
    model: more.model,
    inputTokens: total.inputTokens + more.inputTokens,
    outputTokens: total.outputTokens + more.outputTokens,
    latencyMs: total.latencyMs + more.latencyMs,
  };
}

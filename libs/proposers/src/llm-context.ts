import { DatasetProfile } from '@apo/messages';
import { z } from 'zod';
import type { PipelineAttempt } from './prompt.ts';
import type { ProposalRequest } from './proposer.ts';

const Attempt = z.object({
  iteration: z.int(),
  configuration: z.unknown(),
  status: z.enum(['succeeded', 'failed', 'pending']),
  value: z.number().optional(),
  error: z.string().optional(),
});

/**
 * The extras an LLM proposer reads from `ProposalRequest.context`, as the llm stage passes them:
 * `profile` (the dataset profile), `kpi` (`{metric, target}`), and `history.attempts` (this
 * pipeline's attempts, from the config stage). Each part is optional and checked on its own,
 * so a missing or malformed one leaves only that part out of the prompt.
 */
export interface LlmContext {
  profile?: DatasetProfile;
  target?: number;
  attempts?: PipelineAttempt[];
}

/** The parts of `request.context` that parse; see `LlmContext`. */
export function llmContextOf(request: ProposalRequest): LlmContext {
  const context = request.context ?? {};
  const profile = DatasetProfile.safeParse(context['profile']);
  const target = z.object({ target: z.number() }).safeParse(context['kpi']);
  const attempts = z.object({ attempts: z.array(Attempt) }).safeParse(context['history']);
  return {
    ...(profile.success ? { profile: profile.data } : {}),
    ...(target.success ? { target: target.data.target } : {}),
    ...(attempts.success ? { attempts: attempts.data.attempts as PipelineAttempt[] } : {}),
  };
}

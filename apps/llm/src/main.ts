// The llm service: `node --import tsx apps/llm/src/main.ts` (environment in the README).
import { serveStage } from '@apo/platform';
import { RandomProposer, TpeProposer } from '@apo/proposers';
import { llmHandlers } from './handler.ts';

await serveStage({
  stage: 'llm',
  processEnv: process.env,
  handlers: ({ store }) => llmHandlers({ store, proposers: { tpe: new TpeProposer(), random: new RandomProposer() } }),
});

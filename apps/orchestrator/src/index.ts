export { orchestratorHandlers, type OrchestratorDeps } from './handler.ts';
export { judge, type IterationOutcome } from './judge.ts';

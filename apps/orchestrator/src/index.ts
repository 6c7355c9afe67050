export { ORCHESTRATOR_IDEMPOTENT, orchestratorHandlers, orchestratorSweep, type OrchestratorDeps } from './handler.ts';
export { iterationDag, type Dag, type StepName, type StepSpec, type StepTimeouts } from './dag.ts';
export { judge, type IterationOutcome } from './judge.ts';
export { StepTimeoutError } from './step-timeout-error.ts';

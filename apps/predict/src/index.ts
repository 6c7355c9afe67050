export { predictHandlers, trainedModelKey, type PredictDeps, type TrainingProgress } from './handler.ts';

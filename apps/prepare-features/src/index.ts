export { prepareFeaturesHandlers, type PrepareFeaturesDeps } from './handler.ts';

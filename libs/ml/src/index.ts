export type * from './types.ts';
export * from './configuration.ts';
export * from './data/index.ts';
export * from './model/index.ts';

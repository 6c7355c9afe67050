export type * from './types.ts';
export * from './data/index.ts';

export type * from './records.ts';
export type * from './store.ts';
export * from './errors/concurrency-conflict-error.ts';
export * from './errors/record-not-found-error.ts';
export * from './errors/duplicate-record-error.ts';

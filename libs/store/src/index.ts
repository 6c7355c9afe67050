export type * from './records.ts';
export type * from './store.ts';
export * from './errors/concurrency-conflict-error.ts';
export * from './errors/record-not-found-error.ts';
export * from './errors/duplicate-record-error.ts';
export * from './errors/invalid-record-error.ts';
export * from './document-rules.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite.ts';
export { MongoStore, MONGO_COLLECTIONS, type MongoCollectionName, type MongoStoreOptions } from './mongo.ts';

export * from './artifact-store.ts';
export * from './keys.ts';
export * from './local-dir.ts';
export * from './errors/artifact-not-found-error.ts';
export * from './errors/invalid-artifact-key-error.ts';
export * from './gridfs.ts';

// Vitest global setup of projects whose tests need a MongoDB-compatible server
// (`projectTestConfig(dir, { services: ['ferretdb'] })`): tests read its address with
// `inject('MONGODB_URI')`. Reuses $MONGODB_URI when set, else starts a FerretDB for this run.
import { useFerretDb } from './ferretdb.mjs';

/** Provides `MONGODB_URI` to the tests; the returned function stops what it started. */
export default async function setup({ provide }) {
  const ferretDb = await useFerretDb();
  provide('MONGODB_URI', ferretDb.uri);
  return () => ferretDb.stop();
}

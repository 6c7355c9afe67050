import { MongoStore, RecordNotFoundError, SqliteStore, type Store } from '@apo/store';
import type { Io } from './program.ts';
import { EXIT } from './run/command.ts';

/** Where a command finds the store: the services' MongoDB, or `apo run`'s data directory. */
export interface StoreOptions {
  dataDir: string;
  mongodbUri?: string;
}

/** MongoDB when a URI is given (what the services use), else the data directory's SQLite file. */
export async function openStore(options: StoreOptions): Promise<Store> {
  return options.mongodbUri ? MongoStore.connect({ uri: options.mongodbUri }) : SqliteStore.open({ dataDir: options.dataDir });
}

/**
 * Opens the store, does one command's work and closes it; returns the work's exit code. A record
 * that vanished meanwhile (`RecordNotFoundError`) is a refusal: its message, and exit code 2.
 */
export async function withStore(options: StoreOptions, io: Io, work: (store: Store) => Promise<number>): Promise<number> {
  const store = await openStore(options);
  try {
    return await work(store);
  } catch (err) {
    if (!(err instanceof RecordNotFoundError)) throw err;
    io.err(`${err.message}\n`);
    return EXIT.badInput;
  } finally {
    await store.close();
  }
}

import { MongoStore, SqliteStore, type Store } from '@apo/store';

/** Where a command finds the store: the services' MongoDB, or `apo run`'s data directory. */
export interface StoreOptions {
  dataDir: string;
  mongodbUri?: string;
}

/** MongoDB when a URI is given (what the services use), else the data directory's SQLite file. */
export async function openStore(options: StoreOptions): Promise<Store> {
  return options.mongodbUri ? MongoStore.connect({ uri: options.mongodbUri }) : SqliteStore.open({ dataDir: options.dataDir });
}

// Types of ferretdb.mjs, for the TypeScript tests that start a server of their own.

/** The FerretDB release the scripts build and start. */
export const FERRETDB_VERSION: string;

export interface RunningFerretDb {
  /** `mongodb://127.0.0.1:<port>/`. */
  uri: string;
  pid: number;
  port: number;
  dataDir: string;
  logFile: string;
  /** Milliseconds from spawning it to its first answered `ping`. */
  startMs: number;
  /** Ends the server (SIGTERM, then SIGKILL); removes its data directory if this call made it. */
  stop(): Promise<void>;
}

/** Where the built binary lives in the cache. */
export function ferretDbBinary(): string;
/** Builds FerretDB into the cache unless it is there; returns the binary's path. */
export function installFerretDb(options?: { log?: (message: string) => void }): string;
export function startFerretDb(options?: { dataDir?: string; detached?: boolean }): Promise<RunningFerretDb>;
export function stopFerretDb(): Promise<boolean>;
export function ferretDbStatus(): { pid: number; port: number; uri: string; dataDir: string; logFile: string } | null;
export function useFerretDb(): Promise<{ uri: string; stop(): Promise<void> }>;

// What the global setups of `vitest.shared.ts` hand to tests through `inject`.
declare module 'vitest' {
  export interface ProvidedContext {
    KAFKA_BROKERS: string;
    MONGODB_URI: string;
  }
}

export {};

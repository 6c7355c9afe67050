// What the global setups of `vitest.shared.ts` hand to tests through `inject`.
declare module 'vitest' {
  export interface ProvidedContext {
    /** `host:port[,host:port…]` of the Kafka broker the tests use. */
    KAFKA_BROKERS: string;
  }
}

export {};

// What the FerretDB global setup (tools/services/ferretdb.setup.mjs) provides to these tests.
declare module 'vitest' {
  export interface ProvidedContext {
    MONGODB_URI: string;
  }
}

export {};

export * from './bus.ts';
export * from './dead-letter-error.ts';
export * from './bus-closed-error.ts';
export * from './dead-letter.ts';
export * from './in-memory.ts';
export * from './missing-topics-error.ts';
export * from './kafka.ts';
export * from './topics-not-ready-error.ts';

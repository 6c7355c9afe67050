export * from './logger.ts';
export * from './env.ts';
export * from './health.ts';
export * from './shutdown.ts';
export * from './stage.ts';
export * from './periodic.ts';

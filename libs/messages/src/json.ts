import { z } from 'zod';

/** A JSON object whose shape another library owns (for example a model configuration). */
export const JsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObject>;

import { z } from 'zod';
import { ModelConfiguration } from './schema.ts';

/** A JSON Schema document as plain JSON data. */
export type JsonSchema = { [key: string]: unknown };

/**
 * The configuration as a JSON Schema (draft 2020-12) for an LLM tool's input: every field has a
 * description and its bounds, fields with defaults are optional (the input side of the schema),
 * and everything is inlined, since some tool APIs reject `$ref`/`$defs`. `$schema` is left
 * out because tool APIs take the schema as a bare parameters object. `patience <= maxEpochs`
 * cannot be written in JSON Schema; the patience description states it instead.
 */
export function configurationJsonSchema(): JsonSchema {
  const { $schema: _draft, ...schema } = z.toJSONSchema(ModelConfiguration, {
    target: 'draft-2020-12',
    io: 'input',
    reused: 'inline',
    cycles: 'throw',
  });
  // A JSON round-trip drops zod's non-enumerable extras, leaving data any client can serialise.
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

import { describe, expect, it } from 'vitest';
import { BOUNDS } from './bounds.ts';
import { configurationJsonSchema, type JsonSchema } from './json-schema.ts';
import { safeParseModelConfiguration } from './parse.ts';

type Node = {
  type?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
  additionalProperties?: unknown;
};

const schema = configurationJsonSchema() as Node;
const layer = schema.properties?.hiddenLayers?.items as Node;

/** A value valid under the JSON Schema with every field at its lower or upper end. */
function example(node: Node, end: 'low' | 'high'): unknown {
  if (node.enum) return end === 'low' ? node.enum[0] : node.enum.at(-1);
  switch (node.type) {
    case 'object':
      return Object.fromEntries(Object.entries(node.properties ?? {}).map(([k, v]) => [k, example(v, end)]));
    case 'array': {
      const length = end === 'low' ? (node.minItems ?? 0) : (node.maxItems ?? 1);
      return Array.from({ length }, () => example(node.items as Node, end));
    }
    case 'boolean':
      return end === 'high';
    case 'integer':
    case 'number':
      return end === 'low' ? node.minimum : node.maximum;
    default:
      throw new Error(`no example for ${JSON.stringify(node)}`);
  }
}

function numericFields(node: Node, path: string[] = []): { path: string[]; node: Node }[] {
  if (node.type === 'object') {
    return Object.entries(node.properties ?? {}).flatMap(([k, v]) => numericFields(v, [...path, k]));
  }
  if (node.type === 'array') return numericFields(node.items as Node, [...path, '0']);
  return node.type === 'number' || node.type === 'integer' ? [{ path, node }] : [];
}

function setAt(value: unknown, path: string[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[path.at(-1) as string] = replacement;
  return copy;
}

describe('configurationJsonSchema', () => {
  it('is plain JSON without references or a draft marker that tool APIs reject', () => {
    const text = JSON.stringify(configurationJsonSchema());
    expect(JSON.parse(text)).toEqual(configurationJsonSchema());
    expect(text).not.toContain('$ref');
    expect(text).not.toContain('$defs');
    expect(text).not.toContain('$schema');
  });

  it('describes every field', () => {
    const missing: string[] = [];
    const visit = (node: Node, path: string) => {
      if (!node.description) missing.push(path || '(root)');
      for (const [k, v] of Object.entries(node.properties ?? {})) visit(v, path ? `${path}.${k}` : k);
      if (node.items) visit(node.items, `${path}[]`);
    };
    visit(schema, '');
    expect(missing).toEqual([]);
  });

  it('requires exactly the fields without defaults and forbids others', () => {
    expect(schema.required?.toSorted()).toEqual(
      ['batchSize', 'hiddenLayers', 'learningRate', 'maxEpochs', 'optimizer'].toSorted(),
    );
    expect(layer.required?.toSorted()).toEqual(['activation', 'units']);
    expect(schema.additionalProperties).toBe(false);
    expect(layer.additionalProperties).toBe(false);
  });

  it('carries the same bounds and choices as BOUNDS', () => {
    const props = schema.properties ?? {};
    const layerProps = layer.properties ?? {};
    for (const field of ['learningRate', 'momentum', 'batchSize', 'maxEpochs', 'patience'] as const) {
      expect([props[field]?.minimum, props[field]?.maximum], field).toEqual([
        BOUNDS[field].min,
        BOUNDS[field].max,
      ]);
    }
    for (const field of ['units', 'dropout', 'l2'] as const) {
      expect([layerProps[field]?.minimum, layerProps[field]?.maximum], field).toEqual([
        BOUNDS[field].min,
        BOUNDS[field].max,
      ]);
    }
    expect([props.hiddenLayers?.minItems, props.hiddenLayers?.maxItems]).toEqual([
      BOUNDS.hiddenLayers.min,
      BOUNDS.hiddenLayers.max,
    ]);
    expect(layerProps.activation?.enum).toEqual([...BOUNDS.activations]);
    expect(props.optimizer?.enum).toEqual([...BOUNDS.optimizers]);
    expect(layerProps.units?.type).toBe('integer');
    expect(props.learningRate?.type).toBe('number');
  });

  it('admits only values the zod schema accepts at its edges', () => {
    for (const end of ['low', 'high'] as const) {
      const value = example(schema, end);
      const result = safeParseModelConfiguration(value);
      expect(result.success, `${end}: ${JSON.stringify(result.success ? null : result.issues)}`).toBe(true);
    }
  });

  it('has bounds the zod schema enforces too', () => {
    const valid = example(schema, 'high');
    const fields = numericFields(schema);
    expect(fields.length).toBeGreaterThanOrEqual(8);
    for (const { path, node } of fields) {
      const beyond = (node.maximum as number) + (node.type === 'integer' ? 1 : 1e-6);
      const result = safeParseModelConfiguration(setAt(valid, path, beyond));
      expect(result.success, path.join('.')).toBe(false);
    }
  });

  it('hands out an independent copy each time', () => {
    const first: JsonSchema = configurationJsonSchema();
    first['type'] = 'string';
    expect(configurationJsonSchema()['type']).toBe('object');
  });
});

import type { z } from 'zod';
import type { ConfigurationIssue } from './invalid-configuration-error.ts';

const MAX_SHOWN = 60;

function show(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      return `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      // Zod reports 1.5 against `.int()` as an invalid type; a user reads it as "not whole".
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${article(issue.expected)} ${issue.expected}, not ${typeName(issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return `must be ${issue.format}`;
    default:
      return issue.message;
  }
}

/**
 * Zod's issues as `path: message (got value)` entries. Unknown keys become one issue per key at
 * the key's own path, so `hiddenLayers.0.unit: unknown field` points at the typo.
 */
export function toConfigurationIssues(error: z.ZodError): ConfigurationIssue[] {
  return error.issues.flatMap((issue): ConfigurationIssue[] => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }));
    }
    const got = issue.input === undefined ? '' : ` (got ${show(issue.input)})`;
    return [{ path: path.join('.'), message: `${describe(issue)}${got}` }];
  });
}

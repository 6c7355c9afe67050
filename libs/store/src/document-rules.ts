import { InvalidRecordError } from './errors/invalid-record-error.ts';

// Every adapter must give back exactly what it was given, and a record must be storable by all of
// them: MongoDB 7 and FerretDB 1.24 refuse arrays directly inside arrays, keys with "." or a
// leading "$" (and NUL, which BSON cannot encode), and the JSON the SQLite adapter writes cannot
// hold NaN or infinities. Values that are not JSON (a Date, a Map, a bigint) would come back
// changed from one adapter and not from another, so they are refused too. A property whose value
// is `undefined` counts as absent, as in JSON; the MongoDB adapter must drop it the same way.

/** Where a record breaks the document rules, and how. */
export interface DocumentViolation {
  /** Path of the offending value from the record's root, e.g. `best.validation.accuracy`. */
  path: string;
  reason: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function childPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function keyViolation(key: string): string | null {
  if (key.includes('.')) return 'is a key containing ".", which documents do not allow';
  if (key.startsWith('$')) return 'is a key starting with "$", which documents do not allow';
  if (key.includes('\u0000')) return 'is a key containing a NUL character, which documents do not allow';
  return null;
}

function describeNonFinite(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function visit(value: unknown, path: string, ancestors: Set<object>): DocumentViolation | null {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value)
        ? null
        : { path, reason: `is ${describeNonFinite(value)}; documents hold only finite numbers` };
    case 'undefined':
      return { path, reason: 'is undefined; records hold JSON values only' };
    case 'bigint':
    case 'symbol':
    case 'function':
      return { path, reason: `is a ${typeof value}; records hold JSON values only` };
  }
  if (value === null) return null;
  const object = value as object;
  if (ancestors.has(object)) return { path, reason: 'is a circular reference' };
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (const [index, item] of object.entries()) {
        const itemPath = `${path}[${index}]`;
        if (Array.isArray(item)) {
          return {
            path: itemPath,
            reason: 'is an array directly inside an array; store it flat (a matrix as size and values)',
          };
        }
        const found = visit(item, itemPath, ancestors);
        if (found) return found;
      }
      return null;
    }
    const prototype: unknown = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return { path, reason: `is a ${kind}, not a plain object; records hold JSON values only` };
    }
    for (const [key, item] of Object.entries(object)) {
      if (item === undefined) continue;
      const itemPath = childPath(path, key);
      const badKey = keyViolation(key);
      if (badKey) return { path: itemPath, reason: badKey };
      const found = visit(item, itemPath, ancestors);
      if (found) return found;
    }
    return null;
  } finally {
    ancestors.delete(object);
  }
}

/** The first value of `record` that breaks the document rules, or null if every adapter can store it. */
export function findDocumentViolation(record: unknown): DocumentViolation | null {
  return visit(record, '', new Set());
}

/**
 * Throws `InvalidRecordError` naming the first value of `record` that breaks the document rules.
 * Adapters call it before writing anything, so a refused record leaves the store unchanged.
 */
export function assertStorableDocument(collection: string, record: unknown): void {
  const violation = findDocumentViolation(record);
  if (violation) throw new InvalidRecordError(collection, violation.path, violation.reason);
}

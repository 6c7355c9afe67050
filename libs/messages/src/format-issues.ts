import type { z } from 'zod';

const MAX_SHOWN = 80;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** `kpi.target: too big (got 1.5); budget: unknown field "maxIteration"` */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.') || '(message)';
      if (issue.code === 'unrecognized_keys') {
        return `${path === '(message)' ? '' : `${path}: `}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      const got = 'input' in issue ? ` (got ${show(issue.input)})` : '';
      return `${path}: ${issue.message}${got}`;
    })
    .join('; ');
}

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

type Issue = z.core.$ZodIssue;

/**
 * For a value that matched no branch of a union, the issues of the branch whose type it had
 * (a KPI string that is not `metric>=target` is about the string form, not the object form).
 */
function closestBranch(issue: Issue): Issue[] | null {
  if (issue.code !== 'invalid_union') return null;
  const sameType = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  if (sameType.length !== 1) return null;
  return sameType[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
}

/** `kpi.target: too big (got 1.5); budget: unknown field "maxIteration"` */
export function formatIssues(error: { issues: Issue[] }): string {
  return error.issues
    .flatMap((issue) => closestBranch(issue) ?? [issue])
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

import type { Condition } from './workflow-document.ts';

/**
 * A condition step's test over values already rendered. Pure. Comparisons never throw: a value of
 * the wrong kind makes the test false (`greaterThan` of text and a number is false, not an error).
 */
export function evaluateCondition(condition: Condition, render: (value: unknown) => unknown): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateCondition(c, render));
  if ('any' in condition) return condition.any.some((c) => evaluateCondition(c, render));
  let left: unknown;
  try {
    left = render(condition.left);
  } catch {
    // A placeholder without a value: the value does not exist.
    left = undefined;
  }
  if (condition.operator === 'exists') return left !== undefined && left !== null;
  const right = render(condition.right);
  switch (condition.operator) {
    case 'equals':
      return sameValue(left, right);
    case 'notEquals':
      return !sameValue(left, right);
    case 'contains':
      if (typeof left === 'string') return typeof right === 'string' && left.includes(right);
      if (Array.isArray(left)) return left.some((item) => sameValue(item, right));
      return false;
    case 'in':
      return Array.isArray(right) && right.some((item) => sameValue(item, left));
    case 'greaterThan':
    case 'lessThan': {
      const a = comparable(left);
      const b = comparable(right);
      if (a === null || b === null || typeof a !== typeof b) return false;
      return condition.operator === 'greaterThan' ? a > b : a < b;
    }
  }
}

/** Numbers compare as numbers (numeric text too), other text as text. */
function comparable(value: unknown): number | string | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) ? n : value;
  }
  return null;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b;
  if (typeof a === 'string' && typeof b === 'number') return a === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

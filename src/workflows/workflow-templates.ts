import {
  checkTemplate,
  renderJson,
  renderText,
  type TemplateContext,
  type TemplateVocabulary,
} from '../integrations/template-renderer.ts';

/**
 * Workflow values are templates of the integrations renderer over the workflow's own vocabulary:
 * `{{trigger.*}}`, `{{steps.<id>.output.*}}`, `{{user.id}}`, `{{execution.id}}`, `{{step.id}}`,
 * `{{item}}` inside forEach, and `{{credential.providerAccountId}}` / `{{credential.settings.*}}`
 * (never the token). Path segments may be array indexes (`{{trigger.payload.items.0.id}}`).
 */
export const WORKFLOW_VOCABULARY: TemplateVocabulary = {
  exact: new Set([
    'trigger',
    'user.id',
    'execution.id',
    'step.id',
    'item',
    'index',
    'credential.providerAccountId',
  ]),
  openPrefixes: ['trigger.', 'steps.', 'item.', 'credential.settings.'],
  segment: /^[A-Za-z0-9_$][A-Za-z0-9_$-]*$/,
};

/** What placeholders read while a step runs. */
export interface WorkflowContext {
  trigger: unknown;
  steps: Record<string, { output: unknown }>;
  user: { id: string | null };
  execution: { id: string };
  step: { id: string };
  item?: unknown;
  index?: number;
  credential?: { providerAccountId?: string; settings?: Record<string, unknown> };
}

export function checkWorkflowTemplate(value: unknown, field: string): string[] {
  return checkTemplate(value, field, WORKFLOW_VOCABULARY);
}

export function renderWorkflowJson(value: unknown, context: WorkflowContext, field: string): unknown {
  return renderJson(value, context as unknown as TemplateContext, field, WORKFLOW_VOCABULARY);
}

export function renderWorkflowText(value: string, context: WorkflowContext, field: string): string {
  return renderText(value, context as unknown as TemplateContext, field, undefined, WORKFLOW_VOCABULARY);
}

/** `{{steps.<id>.…}}` references in a value: the step ids they name. */
export function referencedStepIds(value: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/\{\{\s*steps\.([A-Za-z0-9_$-]+)/g)) out.push(m[1] ?? '');
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(visit);
  };
  visit(value);
  return out;
}

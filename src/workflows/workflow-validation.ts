import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Cron } from 'croner';
import { HookyardError } from '../domain/errors.ts';
import { formatError } from '../integrations/definition-validation.ts';
import type { WorkflowDocument, WorkflowStep } from './workflow-document.ts';
import { checkWorkflowTemplate, referencedStepIds } from './workflow-templates.ts';

/**
 * Validates a workflow document against docs/workflow.schema.json, then checks what a JSON Schema
 * cannot say (unique step ids, placeholders and the steps they name, schedules, where a step may
 * stand). Every problem is reported, each as `field.path: what was expected`.
 */

export const WORKFLOW_SCHEMA_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'docs',
  'workflow.schema.json',
);
export const workflowSchema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_FILE, 'utf8')) as Record<
  string,
  unknown
>;

const ajv = new Ajv2020({ allErrors: true, verbose: true, discriminator: true, strict: false });
const validateSchema = ajv.compile(workflowSchema);

/** A stored document's size limit (its JSON). */
export const MAX_WORKFLOW_BYTES = 256 * 1024;

/** Fields of a step that are not templates. */
const NON_TEMPLATE_FIELDS = new Set(['id', 'type', 'retry', 'code', 'then', 'else', 'steps', 'if']);

function schemaProblems(input: unknown): string[] {
  if (validateSchema(input)) return [];
  const out: string[] = [];
  for (const e of validateSchema.errors ?? []) {
    const line = formatError(e);
    if (line && !out.includes(line)) out.push(line);
  }
  return out;
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function triggerProblems(doc: WorkflowDocument): string[] {
  const t = doc.trigger;
  const out: string[] = [];
  if (t.type !== 'schedule') return out;
  if ((t.every === undefined) === (t.cron === undefined))
    out.push('trigger: give exactly one of every, cron');
  if (t.every !== undefined) {
    const every = t.every as Record<string, unknown>;
    const kinds = ['seconds', 'minutes', 'hours', 'days', 'weekday'].filter((k) => every[k] !== undefined);
    if (kinds.length !== 1) {
      out.push(
        'trigger.every: expected exactly one of seconds, minutes, hours (with atMinute), days (with at), weekday (with at)',
      );
    } else {
      const kind = kinds[0];
      if (every.atMinute !== undefined && kind !== 'hours')
        out.push('trigger.every.atMinute: only with hours');
      if ((kind === 'days' || kind === 'weekday') !== (every.at !== undefined)) {
        out.push(
          `trigger.every.at: ${every.at === undefined ? 'is required with' : 'is not allowed with'} ${kind}`,
        );
      }
    }
  }
  if (t.timezone !== undefined && !validTimeZone(t.timezone)) {
    out.push(`trigger.timezone: "${t.timezone}" is not an IANA time zone (such as Europe/Paris)`);
  }
  if (t.cron !== undefined) {
    try {
      new Cron(t.cron, { paused: true });
    } catch (error) {
      out.push(`trigger.cron: not a cron expression (${(error as Error).message})`);
    }
  }
  if (t.anchor !== undefined && Number.isNaN(Date.parse(t.anchor))) {
    out.push('trigger.anchor: expected an ISO 8601 date and time');
  }
  return out;
}

function stepProblems(doc: WorkflowDocument): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  const all: Array<{ step: WorkflowStep; at: string; inLoop: boolean }> = [];
  const walk = (steps: WorkflowStep[], at: string, inLoop: boolean): void => {
    steps.forEach((step, i) => {
      const here = `${at}[${i}]`;
      all.push({ step, at: here, inLoop });
      const earlier = seen.get(step.id);
      if (earlier !== undefined) out.push(`${here}.id: "${step.id}" is already the id of ${earlier}`);
      else seen.set(step.id, here);
      if (step.type === 'condition') {
        walk(step.then, `${here}.then`, inLoop);
        if (step.else) walk(step.else, `${here}.else`, inLoop);
      } else if (step.type === 'forEach') walk(step.steps, `${here}.steps`, true);
    });
  };
  walk(doc.steps, 'steps', false);
  for (const { step, at, inLoop } of all) {
    const templated: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(step)) if (!NON_TEMPLATE_FIELDS.has(k)) templated[k] = v;
    if (step.type === 'condition') templated.if = step.if;
    for (const [k, v] of Object.entries(templated)) {
      out.push(...checkWorkflowTemplate(v, `${at}.${k}`));
      for (const id of referencedStepIds(v)) {
        if (!seen.has(id)) out.push(`${at}.${k}: {{steps.${id}…}} names no step of this workflow`);
      }
      if (!inLoop && JSON.stringify(v).match(/\{\{\s*(item|index)\b/)) {
        out.push(`${at}.${k}: {{item}} and {{index}} are only defined inside a forEach step`);
      }
    }
    if (step.type === 'http' && !/^(https?:\/\/|\{\{)/.test(step.url)) {
      out.push(`${at}.url: expected an http:// or https:// URL`);
    }
    if (step.type === 'delay' && (step.seconds === undefined) === (step.until === undefined)) {
      out.push(`${at}: give exactly one of seconds, until`);
    }
    if (step.type === 'respond' && doc.trigger.type !== 'request') {
      out.push(
        `${at}: a respond step answers a request trigger; this workflow's trigger is ${doc.trigger.type}`,
      );
    }
  }
  return out;
}

/** The document, checked; throws validation_failed listing every problem by path. */
export function parseWorkflowDocument(input: unknown): WorkflowDocument {
  if (JSON.stringify(input ?? null).length > MAX_WORKFLOW_BYTES) {
    throw new HookyardError('validation_failed', `the workflow is larger than ${MAX_WORKFLOW_BYTES} bytes`);
  }
  const problems = schemaProblems(input);
  if (problems.length === 0) {
    const doc = input as WorkflowDocument;
    problems.push(...triggerProblems(doc), ...stepProblems(doc));
  }
  if (problems.length > 0) {
    throw new HookyardError('validation_failed', `the workflow is not valid: ${problems.join('; ')}`);
  }
  return input as WorkflowDocument;
}

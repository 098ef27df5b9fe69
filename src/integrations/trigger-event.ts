import {
  compileEventFieldReader,
  type EventFieldReader,
  type EventFieldSource,
} from '../ingest/verification/event-field.ts';
import { parseJsonBody } from '../ingest/verification/json-body.ts';
import { compileJsonPath } from '../ingest/verification/json-path.ts';
import { getProviderPreset } from '../ingest/verification/provider-presets.ts';
import { headerValue, type RawRequest } from '../ingest/verification/raw-request.ts';
import type { Locator, TriggerDefinition } from './integration-definition.ts';

/**
 * What an incoming request means for one trigger: its event id (the dedupe key), its event type,
 * its routing value (app level), and whether the trigger's filter takes it. Built on the readers
 * sources use; a trigger that names a verification preset inherits that preset's id and type
 * readers unless it declares its own.
 */
export interface TriggerEventReader {
  readEventId: EventFieldReader | null;
  readEventType: EventFieldReader | null;
  readRouting: EventFieldReader | null;
  /** Whether the trigger's filter takes this request (true without a filter). */
  matches(req: RawRequest, parsedJson?: unknown): boolean;
}

export function locatorToField(locator: Locator): EventFieldSource {
  if ('header' in locator) return { from: 'header', name: locator.header.toLowerCase() };
  if ('jsonPath' in locator) return { from: 'json', path: locator.jsonPath };
  if ('jsonPaths' in locator) return { from: 'json-composite', paths: locator.jsonPaths };
  if ('form' in locator) return { from: 'form', name: locator.form };
  return { from: 'body-sha256' };
}

/** A filter's field as text: strings, numbers and booleans (`in: [true]`) compare by their text. */
function compileFilterFieldReader(
  field: { header: string } | { jsonPath: string },
): (req: RawRequest, json: unknown) => string | null {
  if ('header' in field) {
    const name = field.header.toLowerCase();
    return (req) => headerValue(req, name) ?? null;
  }
  const path = compileJsonPath(field.jsonPath);
  return (_req, json) => {
    const value = path.read(json);
    return typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
      ? String(value)
      : null;
  };
}

export function compileTriggerEventReader(trigger: TriggerDefinition): TriggerEventReader {
  const preset = trigger.verification?.provider
    ? getProviderPreset(trigger.verification.provider)
    : undefined;
  const idFields = trigger.eventId ? [locatorToField(trigger.eventId)] : (preset?.dedupeKey ?? []);
  const typeFields = trigger.eventType ? [locatorToField(trigger.eventType)] : (preset?.eventType ?? []);
  const readEventId = idFields.length ? compileEventFieldReader(idFields) : null;
  const readEventType = typeFields.length ? compileEventFieldReader(typeFields) : null;
  const readRouting = trigger.routing ? compileEventFieldReader([locatorToField(trigger.routing)]) : null;
  const filter = trigger.filter;
  const allowedTypes = filter?.eventType ? new Set(filter.eventType) : null;
  const field = filter?.field;
  const readField = field ? compileFilterFieldReader(field) : null;
  const allowedValues = field ? new Set(field.in.map((v) => String(v))) : null;
  return {
    readEventId,
    readEventType,
    readRouting,
    matches(req, parsedJson) {
      if (!allowedTypes && !readField) return true;
      const json = parsedJson !== undefined ? parsedJson : parseJsonBody(req.body);
      if (allowedTypes) {
        const type = readEventType?.(req, json) ?? null;
        if (type === null || !allowedTypes.has(type)) return false;
      }
      if (readField && allowedValues) {
        const value = readField(req, json);
        if (value === null || !allowedValues.has(value)) return false;
      }
      return true;
    },
  };
}

import type { AttemptRecord, DeliveryCompletion, DeliveryStore } from '../../delivery-store.ts';
import type { SqlValue } from '../sql-executor.ts';

/**
 * Outcomes: each finished attempt as an attempts row and an update of its delivery, as positional
 * rows (see MessageRows for why) that a dialect writes in one transaction (OutcomeWriter).
 */

const attemptValues = (a: AttemptRecord): SqlValue[] => [
  a.id,
  a.projectId,
  a.deliveryId,
  a.messageId,
  a.endpointId,
  a.attemptNumber,
  a.startedAtMs,
  a.durationMs,
  a.outcome,
  a.statusCode,
  a.errorKind,
  a.errorMessage,
  JSON.stringify(a.responseHeaders),
  a.responseBody,
  a.responseBodyTruncated ? 1 : 0,
  a.nextAttemptAtMs,
];

/**
 * An outcome as the dialects' update reads it: status, next attempt, updated, whether an attempt
 * was made (three times: count, schedule position, status code), its start, its status code, the
 * failure kind, the delivery id, and last 'pending': the state an outcome applies to. A delivery
 * that is not pending any more (disabled meanwhile, or finished by a worker that re-claimed it
 * after a lease ran out) keeps its state; the attempt is recorded all the same.
 */
function completionValues(c: DeliveryCompletion): SqlValue[] {
  const made = c.attempt !== null ? 1 : 0;
  return [
    c.status,
    c.nextAttemptAtMs,
    c.updatedAtMs,
    made,
    made,
    c.attempt?.startedAtMs ?? null,
    made,
    c.attempt?.statusCode ?? null,
    c.lastFailureKind,
    c.deliveryId,
    'pending',
  ];
}

/** Delivery outcomes as rows: attempts to insert (ATTEMPT_COLUMNS), deliveries to update (completionValues). */
export interface CompletionRows {
  attempts: SqlValue[][];
  outcomes: SqlValue[][];
}

export function toCompletionRows(completions: readonly DeliveryCompletion[]): CompletionRows {
  const attempts: SqlValue[][] = [];
  for (const c of completions) if (c.attempt) attempts.push(attemptValues(c.attempt));
  return { attempts, outcomes: completions.map(completionValues) };
}

/** How a dialect writes a batch of outcomes (never empty) in one transaction. */
export interface OutcomeWriter {
  completeDeliveries(rows: CompletionRows): Promise<unknown>;
}

export type OutcomeQueries = Pick<DeliveryStore, 'completeDeliveries'>;

export function createOutcomeQueries(writer: OutcomeWriter): OutcomeQueries {
  return {
    async completeDeliveries(completions) {
      if (completions.length === 0) return;
      await writer.completeDeliveries(toCompletionRows(completions));
    },
  };
}

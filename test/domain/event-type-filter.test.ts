import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HookyardError } from '../../src/domain/errors.ts';
import {
  matchesEndpointFilters,
  matchesEventType,
  matchesObjectType,
  validateEventTypeFilter,
  validateEventTypeFilters,
  validateObjectTypeFilter,
} from '../../src/domain/event-type-filter.ts';

describe('event type filter', () => {
  it('accepts everything when the list is missing, empty or contains "*"', () => {
    assert.equal(matchesEventType(undefined, 'a.b'), true);
    assert.equal(matchesEventType([], 'a.b'), true);
    assert.equal(matchesEventType(['x.y', '*'], 'a.b'), true);
  });

  it('matches exact types, case-sensitively', () => {
    assert.equal(matchesEventType(['invoice.paid'], 'invoice.paid'), true);
    assert.equal(matchesEventType(['invoice.paid'], 'invoice.paid.late'), false);
    assert.equal(matchesEventType(['invoice.paid'], 'Invoice.paid'), false);
  });

  it('matches prefix wildcards on whole segments only', () => {
    const filters = ['workflowExecution.*'];
    assert.equal(matchesEventType(filters, 'workflowExecution.completed'), true);
    assert.equal(matchesEventType(filters, 'workflowExecution.step.failed'), true);
    assert.equal(matchesEventType(filters, 'workflowExecutionX'), false);
    assert.equal(matchesEventType(filters, 'workflowExecutionX.completed'), false);
    assert.equal(matchesEventType(filters, 'workflowExecution'), false);
    assert.equal(matchesEventType(filters, 'workflowExecution.'), false);
    assert.equal(matchesEventType(['a.b.*', 'c.d'], 'c.d'), true);
  });

  it('validates filters with errors that say what is allowed', () => {
    for (const ok of [
      '*',
      'a',
      'invoice.paid',
      'workflowExecution.*',
      'orders/create',
      'SALESFORCE_RECORD-1.x:y',
    ]) {
      assert.equal(validateEventTypeFilter(ok), ok);
    }
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a.*.b', /misplaced "\*"/],
      ['a*', /misplaced "\*"/],
      ['*.a', /misplaced "\*"/],
      ['.*', /misplaced "\*"/],
      ['a..b', /not valid; expected dot-separated segments/],
      ['a.', /not valid/],
      ['a b', /not valid/],
      ['x'.repeat(257), /at most 256/],
    ];
    for (const [filter, message] of bad) {
      assert.throws(
        () => validateEventTypeFilter(filter),
        (e: unknown) =>
          e instanceof HookyardError && e.code === 'validation_failed' && message.test(e.detail),
        JSON.stringify(filter),
      );
    }
    assert.throws(() => validateEventTypeFilters(new Array(257).fill('a')), /at most 256/);
  });
});

describe('object type filter', () => {
  it('accepts all when missing, empty or "*", else exact names; a missing object type only passes accept-all', () => {
    assert.equal(matchesObjectType(undefined, 'contact'), true);
    assert.equal(matchesObjectType([], undefined), true);
    assert.equal(matchesObjectType(['*'], undefined), true);
    assert.equal(matchesObjectType(['contact', 'deal'], 'deal'), true);
    assert.equal(matchesObjectType(['contact'], 'Contact'), false);
    assert.equal(matchesObjectType(['contact'], undefined), false);
    assert.equal(validateObjectTypeFilter('crm.contact'), 'crm.contact');
    assert.throws(() => validateObjectTypeFilter('a b'), /object type filter "a b" is not valid/);
  });

  it('combines both filters for an endpoint', () => {
    const filters = { eventTypes: ['record.*'], objectTypes: ['contact'] };
    assert.equal(matchesEndpointFilters(filters, { type: 'record.created', objectType: 'contact' }), true);
    assert.equal(matchesEndpointFilters(filters, { type: 'record.created', objectType: 'deal' }), false);
    assert.equal(matchesEndpointFilters(filters, { type: 'other.created', objectType: 'contact' }), false);
    assert.equal(matchesEndpointFilters({}, { type: 'anything' }), true);
  });
});

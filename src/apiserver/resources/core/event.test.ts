import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check } from './testing.ts';

const ev = (fields: Record<string, unknown>) => ({
  metadata: { name: 'e', namespace: 'default' },
  ...fields,
});

test('the involved object must be in the event namespace', () => {
  assert.deepEqual(
    check(
      'events',
      ev({ involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' }, reason: 'Started' }),
    ),
    [],
  );
  assert.deepEqual(check('events', ev({ involvedObject: { kind: 'Node', name: 'n' } })), []);
  assert.deepEqual(check('events', ev({ involvedObject: { kind: 'Pod', namespace: 'other', name: 'p' } })), [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  assert.deepEqual(
    check('events', {
      metadata: { name: 'e', namespace: 'team' },
      involvedObject: { kind: 'Node', name: 'n' },
    }),
    ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
  );
});

test('events with an eventTime need the reporting fields', () => {
  const errs = check(
    'events',
    ev({
      involvedObject: { namespace: 'default' },
      eventTime: '2024-01-01T00:00:00.000000Z',
      reportingComponent: 'kubelet',
      action: 'x'.repeat(129),
    }),
  );
  assert.deepEqual(errs, [
    'reportingInstance: Required value',
    'action: Invalid value: "": can have at most 128 characters',
    'reason: Required value',
  ]);
});

test('event fields have their JSON types', () => {
  assert.deepEqual(check('events', ev({ count: 'many' })), [
    'count: Invalid value: "many": must be of type integer',
  ]);
});

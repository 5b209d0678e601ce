import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, edit, update } from './testing.ts';

const EV = 'events.k8s.io/events';

function event(extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web.1' },
    eventTime: '2025-01-01T00:00:00.123456Z',
    reportingController: 'skiff.io/scheduler',
    reportingInstance: 'scheduler-1',
    action: 'Binding',
    reason: 'Scheduled',
    regarding: { kind: 'Pod', namespace: 'default', name: 'web' },
    note: 'assigned',
    type: 'Normal',
    ...extra,
  };
}

describe('events.k8s.io Event', () => {
  it('accepts a complete event', () => {
    assert.deepEqual(create(EV, event()).errors, []);
  });

  it('requires eventTime, reporting fields, action, reason and a valid type', () => {
    const errors = create(
      EV,
      event({
        eventTime: undefined,
        reportingController: '',
        action: '',
        reason: '',
        reportingInstance: '',
        type: 'Info',
      }),
    ).errors;
    assert.deepEqual(errors, [
      'eventTime: Required value',
      'type: Invalid value: "": has invalid value: Info',
    ]);
    const timed = create(
      EV,
      event({ reportingController: '', action: '', reason: '', reportingInstance: '' }),
    ).errors;
    assert.equal(timed[0], 'reportingController: Required value');
    assert.match(timed[1] ?? '', /^reportingController: Invalid value: "": name part must be non-empty/);
    assert.deepEqual(timed.slice(-3), [
      'reportingInstance: Required value',
      'action: Required value',
      'reason: Required value',
    ]);
  });

  it('wants the regarding namespace to match', () => {
    assert.deepEqual(create(EV, event({ regarding: { kind: 'Node', name: 'n1' } }), 'apps').errors, [
      'involvedObject.namespace: Invalid value: "": does not match event.namespace',
    ]);
    assert.deepEqual(create(EV, event({ regarding: { kind: 'Node', name: 'n1' } }), 'default').errors, []);
  });

  it('checks lengths and the deprecated fields', () => {
    assert.deepEqual(
      create(
        EV,
        event({
          note: 'x'.repeat(1025),
          deprecatedCount: 2,
          deprecatedSource: { component: 'kubelet' },
          deprecatedFirstTimestamp: '2025-01-01T00:00:00Z',
        }),
      ).errors,
      [
        'message: Invalid value: "": can have at most 1024 characters',
        'firstTimestamp: Invalid value: "": needs to be unset',
        'count: Invalid value: "": needs to be unset',
        'source: Invalid value: "": needs to be unset',
      ],
    );
  });

  it('checks series', () => {
    assert.deepEqual(create(EV, event({ series: { count: 1 } })).errors, [
      'series.count: Invalid value: "": should be at least 2',
      'series.lastObservedTime: Required value',
    ]);
  });

  it('lets only series change on update', () => {
    const base = create(EV, event()).obj;
    const series = edit(base, (x) => {
      x.series = { count: 2, lastObservedTime: '2025-01-01T00:01:00.000000Z' };
    });
    assert.deepEqual(update(EV, base, series).errors, []);
    const sameMicro = edit(base, (x) => {
      x.eventTime = '2025-01-01T00:00:00.123456789Z';
    });
    assert.deepEqual(update(EV, base, sameMicro).errors, []);
    const changed = edit(base, (x) => {
      x.note = 'other';
      x.reason = 'Other';
      x.eventTime = '2025-01-02T00:00:00Z';
    });
    assert.deepEqual(update(EV, base, changed).errors, [
      'reason: Invalid value: "Other": field is immutable',
      'message: Invalid value: "other": field is immutable',
      'eventTime: Invalid value: "2025-01-02T00:00:00Z": field is immutable',
    ]);
  });
});

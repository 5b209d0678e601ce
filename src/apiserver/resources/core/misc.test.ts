import assert from 'node:assert/strict';
import { test } from 'node:test';
import { check, defaulted } from './testing.ts';

test('service accounts: only JSON types', () => {
  assert.deepEqual(
    check('serviceaccounts', { metadata: { name: 'sa' }, imagePullSecrets: [{ name: 'r' }] }),
    [],
  );
  assert.deepEqual(
    check('serviceaccounts', { metadata: { name: 'sa' }, automountServiceAccountToken: 'yes' }),
    ['automountServiceAccountToken: Invalid value: "yes": must be of type boolean'],
  );
});

test('pod templates: the template spec is defaulted and validated', () => {
  const t = defaulted('podtemplates', {
    metadata: { name: 't' },
    template: { spec: { containers: [{ name: 'c', image: 'x' }] } },
  });
  const spec = (t.template as { spec: Record<string, unknown> }).spec;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.enableServiceLinks, undefined, 'pod-only defaults stay off templates');
  assert.deepEqual(check('podtemplates', { metadata: { name: 't' } }), [
    'template.spec.containers: Required value',
  ]);
  assert.deepEqual(
    check('podtemplates', { metadata: { name: 't' }, template: { spec: { containers: [{ name: 'c' }] } } }),
    ['template.spec.containers[0].image: Required value'],
  );
});

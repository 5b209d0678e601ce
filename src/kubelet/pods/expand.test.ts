import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expand, expandAll } from './expand.ts';

test('expand: $(VAR), $$ escapes, undefined and malformed references stay', () => {
  const env = new Map([
    ['A', 'apple'],
    ['B', 'b$(A)'],
  ]);
  const lookup = (k: string) => env.get(k);
  assert.equal(expand('$(A)', lookup), 'apple');
  assert.equal(expand('x-$(A)-y', lookup), 'x-apple-y');
  assert.equal(expand('$(B)', lookup), 'b$(A)', 'no recursive expansion');
  assert.equal(expand('$(MISSING)', lookup), '$(MISSING)');
  assert.equal(expand('$$(A)', lookup), '$(A)');
  assert.equal(expand('$$$(A)', lookup), '$apple');
  assert.equal(expand('$A', lookup), '$A');
  assert.equal(expand('$(A', lookup), '$(A');
  assert.equal(expand('end$', lookup), 'end$');
  assert.equal(expand('$()', lookup), '$()');
});

test('expandAll expands each element with the container env', () => {
  assert.deepEqual(expandAll(['sh', '-c', 'echo $(MSG) $$HOME'], [{ key: 'MSG', value: 'hi' }]), [
    'sh',
    '-c',
    'echo hi $HOME',
  ]);
  assert.equal(expandAll(undefined, []), undefined);
});

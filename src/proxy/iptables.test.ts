import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSave, withListCommands } from './iptables.ts';

test('withListCommands puts -S after the jump fixes of each table, or first', () => {
  const input = [
    '*filter',
    ':SKIFF-SERVICES - [0:0]',
    '-I INPUT 1 -j SKIFF-SERVICES',
    '-A SKIFF-SERVICES -j REJECT',
    'COMMIT',
    '*nat',
    ':SKIFF-SERVICES - [0:0]',
    '-A SKIFF-SERVICES -j RETURN',
    'COMMIT',
    '',
  ].join('\n');
  assert.equal(
    withListCommands(input),
    [
      '*filter',
      ':SKIFF-SERVICES - [0:0]',
      '-I INPUT 1 -j SKIFF-SERVICES',
      '-S',
      '-A SKIFF-SERVICES -j REJECT',
      'COMMIT',
      '*nat',
      '-S',
      ':SKIFF-SERVICES - [0:0]',
      '-A SKIFF-SERVICES -j RETURN',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test("parseSave reads one table's chains and rules", () => {
  const saved = `# Generated
*filter
:INPUT ACCEPT [0:0]
-A INPUT -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:SKIFF-SERVICES - [0:0]
-A PREROUTING -m comment --comment "skiff service portals" -j SKIFF-SERVICES
COMMIT
`;
  assert.deepEqual(parseSave(saved, 'nat'), {
    chains: ['PREROUTING', 'SKIFF-SERVICES'],
    rules: ['-A PREROUTING -m comment --comment "skiff service portals" -j SKIFF-SERVICES'],
  });
});

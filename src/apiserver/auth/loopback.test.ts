import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { LOOPBACK_USER, LoopbackToken } from './loopback.ts';

describe('LoopbackToken', () => {
  it('authenticates exactly its own bearer token as system:apiserver in system:masters', () => {
    const t = new LoopbackToken();
    const header = t.authorization();
    assert.match(header, /^Bearer [A-Za-z0-9_-]{43}$/, '256 random bits, base64url');
    assert.deepEqual(t.authenticate(header), { name: LOOPBACK_USER, groups: ['system:masters'] });
    assert.equal(LOOPBACK_USER, 'system:apiserver');
    const token = header.slice('Bearer '.length);
    for (const wrong of [
      undefined,
      '',
      'Bearer ',
      token,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      `Basic ${token}`,
      new LoopbackToken().authorization(),
    ]) {
      assert.equal(t.authenticate(wrong), null, `accepted ${JSON.stringify(wrong)}`);
    }
  });

  it('is new in every instance (every process)', () => {
    assert.notEqual(new LoopbackToken().authorization(), new LoopbackToken().authorization());
  });

  it('never shows its token when serialised or inspected', () => {
    const t = new LoopbackToken();
    const token = t.authorization().slice('Bearer '.length);
    for (const text of [JSON.stringify({ t }), inspect(t, { showHidden: true, depth: 5 }), String(t)]) {
      assert.ok(!text.includes(token), text);
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goNumber, goS, goV } from './go-fmt.ts';

describe("Go's fmt rendering of JSON values", () => {
  it('%v prints maps with sorted keys, slices with spaces, nil as <nil>', () => {
    assert.equal(
      goV({ name: 'a', image: 'x', ports: [80, 443], env: null }),
      'map[env:<nil> image:x name:a ports:[80 443]]',
    );
  });

  it('%s marks non-strings the way fmt does', () => {
    assert.equal(goS('merge'), 'merge');
    assert.equal(goS(1), '%!s(int64=1)');
    assert.equal(goS(true), '%!s(bool=true)');
    assert.equal(goS(null), '%!s(<nil>)');
  });

  it('floats use the shortest form, with an exponent from 1e+06', () => {
    assert.equal(goNumber(0.5), '0.5');
    assert.equal(goNumber(1234567.5), '1.2345675e+06');
    assert.equal(goNumber(0.00001), '1e-05');
    assert.equal(goNumber(42), '42');
  });
});

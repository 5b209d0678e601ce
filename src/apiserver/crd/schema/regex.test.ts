import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGoRegexp } from './regex.ts';

function matches(pattern: string, s: string): boolean {
  const r = compileGoRegexp(pattern);
  assert.ok(r.ok, `${pattern}: ${r.ok ? '' : r.error}`);
  return r.re.test(s);
}

function error(pattern: string): string {
  const r = compileGoRegexp(pattern);
  assert.ok(!r.ok, `${pattern} compiled`);
  return r.error;
}

test('ordinary patterns match like Go: unanchored unless anchored', () => {
  assert.ok(matches('^[a-z]+$', 'abc'));
  assert.ok(!matches('^[a-z]+$', 'abc1'));
  assert.ok(matches('b', 'abc'));
  assert.ok(matches('^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$', '*/5 * * * *'));
});

test('Go-only syntax is translated', () => {
  assert.ok(matches('(?i)^abc$', 'ABC'));
  assert.ok(matches('\\Aab\\z', 'ab'));
  assert.ok(matches('^[[:alpha:]][[:digit:]]+$', 'a12'));
  assert.ok(matches('^\\pL+$', 'héllo'));
  assert.ok(matches('^(?P<year>\\d{4})$', '2024'));
  assert.ok(matches('^a\\-b$', 'a-b'), 'escaped punctuation is literal');
});

test('what RE2 rejects is an error with Go’s wording', () => {
  assert.equal(error('(?=x)'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
  assert.equal(error('(?<!x)y'), 'error parsing regexp: invalid or unsupported Perl syntax: `(?<!`');
  assert.equal(error('(a)\\1'), 'error parsing regexp: invalid escape sequence: `\\1`');
  assert.equal(error('+'), 'error parsing regexp: missing argument to repetition operator: `+`');
  assert.equal(error('(abc'), 'error parsing regexp: missing closing ): `(abc`');
  assert.equal(error('[a-z'), 'error parsing regexp: missing closing ]: `[a-z`');
});

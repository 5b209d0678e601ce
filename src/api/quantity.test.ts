import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ERR_FORMAT_WRONG,
  ERR_NUMERIC,
  ERR_SUFFIX,
  parseQuantity,
  Quantity,
  QuantityParseError,
} from './quantity.ts';

const q = (s: string) => Quantity.parse(s);

function emits(cases: [string, string][]) {
  for (const [input, out] of cases) assert.equal(q(input).toString(), out, input);
}

test('canonical form moves everything into the largest suffix and emits no fraction', () => {
  emits([
    ['1000m', '1'],
    ['1.5', '1500m'],
    ['1024Mi', '1Gi'],
    ['0.5Gi', '512Mi'],
    ['1.5Gi', '1536Mi'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['100M', '100M'],
    ['1000M', '1G'],
    ['50k', '50k'],
    ['0.0005k', '500m'],
    ['10.5M', '10500k'],
    ['1.53E12', '1530e9'],
    ['-1.5', '-1500m'],
    ['0', '0'],
    ['0Ki', '0'],
    ['0.0', '0'],
  ]);
});

test('binary quantities under 1024 or fractional are shown as DecimalSI', () => {
  emits([
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['0.000000000001Ki', '2n'],
    ['100.035Ki', '102435840m'],
    ['1025Ki', '1025Ki'],
    ['-1Ki', '-1Ki'],
  ]);
  assert.equal(Quantity.fromInt(5, 'BinarySI').toString(), '5');
  assert.equal(Quantity.fromInt(2000, 'BinarySI').toString(), '2000');
  assert.equal(Quantity.fromMilli(1024, 'BinarySI').toString(), '1024m');
  assert.equal(q('.000001Ki').format, 'DecimalSI');
});

test('an input Kubernetes deems canonical is re-emitted verbatim', () => {
  // resource.ParseQuantity keeps the input string when its int64 fast path finds it canonical.
  emits([
    ['+1', '+1'],
    ['01', '01'],
    ['1.500', '1.500'],
    ['1.', '1.'],
    ['+1Ki', '+1Ki'],
    ['1e0', '1e0'],
    ['10.035M', '10.035M'],
    ['1E-3', '1E-3'],
  ]);
  // ...but not once arithmetic touches it.
  assert.equal(q('1.500').add(q('0')).toString(), '1500m');
  assert.equal(q('+1').neg().toString(), '-1');
});

test('parsed values round away from zero to 1n', () => {
  emits([
    ['3.001n', '4n'],
    ['1.1E-9', '2e-9'],
    ['0.0000000001', '1n'],
    ['0.0000000005', '1n'],
    ['0.5e-9', '1e-9'],
    ['0.9n', '1n'],
    ['0.00000012345', '124n'],
    ['-0.00000012345', '-124n'],
    ['1e-12', '1e-9'],
  ]);
});

test('BinarySI is capped at 2^63-1 on parse; decimal formats are not', () => {
  assert.equal(q('8Ei').toString(), '9223372036854775807');
  assert.equal(q('9223372036854775807Ki').toString(), '9223372036854775807');
  assert.equal(q('-9Ei').toString(), '-9223372036854775807');
  assert.equal(q('12E').toString(), '12E');
  assert.equal(q('1Ei').toString(), '1Ei');
  assert.equal(q('9223372036854775808').toString(), '9223372036854775808');
});

test('values with no SI suffix fall back to exponent notation', () => {
  emits([
    ['1000E', '1e21'],
    ['5000E', '5e21'],
    ['1e24', '1e24'],
  ]);
  assert.equal(Quantity.fromScaled(1, -12).toString(), '1e-12');
  assert.equal(Quantity.fromScaled(1, -10).toString(), '100e-12');
  // 2^70 has no binary suffix and no trailing zeros: plain digits.
  assert.equal(q('1Ei').mul(1024).toString(), '1180591620717411303424');
  assert.equal(Quantity.fromScaled(1, 70).add(Quantity.zero('BinarySI')).toString(), '10e69');
});

test('formats of exponent and decimal quantities', () => {
  emits([
    ['1.0E-3', '1e-3'],
    ['80e-3', '80e-3'],
    ['300e6', '300e6'],
    ['0.5e-1', '50e-3'],
    ['1E', '1E'],
    ['1e+3', '1e+3'],
  ]);
  assert.equal(q('1E6').format, 'DecimalExponent');
  assert.equal(q('1E').format, 'DecimalSI');
  assert.equal(q('1Mi').format, 'BinarySI');
});

test('odd inputs that Kubernetes accepts as zero', () => {
  for (const s of ['.', '-.', '+', '-', 'e3', 'm', '000']) assert.ok(q(s).isZero(), s);
});

test('invalid strings throw QuantityParseError with Kubernetes messages', () => {
  const cases: [string, string][] = [
    ['', ERR_FORMAT_WRONG],
    ['1.1.M', ERR_FORMAT_WRONG],
    ['1+1.0M', ERR_FORMAT_WRONG],
    ['0.1am', ERR_FORMAT_WRONG],
    ['aoeu', ERR_FORMAT_WRONG],
    [' 1', ERR_FORMAT_WRONG],
    ['1 ', ERR_FORMAT_WRONG],
    ['0.1mi', ERR_SUFFIX],
    ['.5i', ERR_SUFFIX],
    ['1i', ERR_SUFFIX],
    ['-3.01e-', ERR_SUFFIX],
    ['1K', ERR_SUFFIX],
    ['1ki', ERR_SUFFIX],
    ['1e', ERR_SUFFIX],
    ['1e4294967297', ERR_SUFFIX],
    ['1e2147483648', ERR_SUFFIX],
    ['.e-10', ERR_NUMERIC],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => q(input),
      (e: unknown) => e instanceof QuantityParseError && e.message === message && e.input === input,
      JSON.stringify(input),
    );
  }
  assert.match(ERR_FORMAT_WRONG, /'\^\(\[\+-\]\?\[0-9\.\]\+\)\(\[eEinumkKMGTP\]\*\[-\+\]\?\[0-9\]\*\)\$'$/);
  assert.equal(q('1e2147483647').toString(), '10e2147483646');
});

test('arithmetic is exact', () => {
  assert.equal(q('0.1').add(q('0.2')).toString(), '300m');
  assert.ok(q('0.1').add(q('0.2')).equals(q('0.3')));
  assert.equal(q('1Gi').sub(q('512Mi')).toString(), '512Mi');
  assert.equal(q('1').sub(q('1500m')).toString(), '-500m');
  assert.equal(q('100m').add(q('1Gi')).toString(), '1073741824100m');
  assert.equal(q('1Ei').add(q('1Ei')).toString(), '2Ei');
});

test('add and sub keep the receiver format, or take the other when the receiver is zero', () => {
  assert.equal(q('0').add(q('1Gi')).toString(), '1Gi');
  assert.equal(q('1Gi').add(q('0')).toString(), '1Gi');
  assert.equal(q('0').sub(q('100m')).toString(), '-100m');
  assert.equal(q('10').sub(q('1Ki')).format, 'DecimalSI');
  assert.equal(q('2Ki').sub(q('1k')).toString(), '1048');
});

test('arithmetic across absurd magnitudes throws instead of hanging', () => {
  assert.throws(() => q('1e2147483647').add(q('1')), RangeError);
});

test('cmp orders by value across formats and magnitudes', () => {
  assert.equal(q('100m').cmp(q('50m')), 1);
  assert.equal(q('50m').cmp(q('100m')), -1);
  assert.equal(q('10000T').cmp(q('100Gi')), 1);
  assert.equal(q('1Ki').cmp(q('1024')), 0);
  assert.equal(q('-1').cmp(q('1n')), -1);
  assert.equal(q('-2').cmp(q('-1')), -1);
  assert.equal(q('1e2147483647').cmp(q('1e2147483646')), 1);
  assert.equal(q('0').cmp(q('0Ki')), 0);
});

test('value and milliValue round away from zero and saturate at int64', () => {
  const cases: [string, bigint, bigint][] = [
    ['-.484785E-1', -1n, -49n],
    ['.484785E-1', 1n, 49n],
    ['-0.0005', -1n, -1n],
    ['0.0005', 1n, 1n],
    ['-1500m', -2n, -1500n],
    ['1500m', 2n, 1500n],
    ['-9.5000000001Gi', -10200547329n, -10200547328108n],
    ['9.5000000001Gi', 10200547329n, 10200547328108n],
    ['1', 1n, 1000n],
    ['0', 0n, 0n],
  ];
  for (const [input, value, milli] of cases) {
    assert.equal(q(input).value(), value, input);
    assert.equal(q(input).milliValue(), milli, input);
  }
  assert.equal(q('1Ei').milliValue(), (1n << 63n) - 1n);
  assert.equal(q('-1e30').value(), -(1n << 63n));
  assert.equal(Quantity.fromScaled(1, 2).scaledValue(-2), 10000n);
});

test('constructors mirror NewQuantity, NewMilliQuantity and NewScaledQuantity', () => {
  assert.equal(Quantity.fromInt(1000).toString(), '1k');
  assert.equal(Quantity.fromInt(1024, 'BinarySI').toString(), '1Ki');
  assert.equal(Quantity.fromInt(1000000, 'DecimalExponent').toString(), '1e6');
  assert.equal(Quantity.fromMilli(1).toString(), '1m');
  assert.equal(Quantity.fromMilli(1234000).toString(), '1234');
  assert.equal(Quantity.fromScaled(1000, -9).toString(), '1u');
  assert.equal(Quantity.fromScaled(0, -9).toString(), '0');
  assert.throws(() => Quantity.fromInt(0.5), RangeError);
});

test('parseQuantity reads JSON strings (trimmed) and numbers', () => {
  assert.equal(parseQuantity(' 1 ').toString(), '1');
  assert.equal(parseQuantity('1Gi').toString(), '1Gi');
  assert.equal(parseQuantity(1).toString(), '1');
  assert.equal(parseQuantity(-1).toString(), '-1');
  assert.equal(parseQuantity(0.1).toString(), '100m');
  assert.equal(parseQuantity(1.5).toString(), '1500m');
  assert.equal(parseQuantity(1e21).toString(), '1e21');
  assert.equal(parseQuantity(1e-7).toString(), '100e-9');
  assert.throws(() => parseQuantity(Number.NaN), QuantityParseError);
  assert.equal(JSON.stringify({ cpu: q('0.5') }), '{"cpu":"500m"}');
});

test('toNumber approximates', () => {
  assert.equal(q('1500m').toNumber(), 1.5);
  assert.equal(q('1Ki').toNumber(), 1024);
  assert.equal(q('1e400').toNumber(), Number.POSITIVE_INFINITY);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CidrSet, formatIP, parseIP, parsePrefix } from './cidr.ts';
import { cidrSets } from './controller.ts';

describe('IP prefixes', () => {
  it('parses and formats IPv4 and IPv6', () => {
    assert.equal(formatIP(4, parseIP('10.42.3.7')!.value), '10.42.3.7');
    for (const s of ['fd00::', '::1', '2001:db8::1:0:0:1', 'fd00:10:42:1::', '1:2:3:4:5:6:7:8']) {
      assert.equal(formatIP(6, parseIP(s)!.value), s);
    }
    assert.equal(formatIP(6, parseIP('2001:0db8:0000:0000:0000:0000:0000:0001')!.value), '2001:db8::1');
    assert.equal(parseIP('10.1.2'), undefined);
    assert.deepEqual(parsePrefix('10.42.7.9/16'), { family: 4, base: parseIP('10.42.0.0')!.value, bits: 16 });
    assert.equal(parsePrefix('10.0.0.0/33'), undefined);
  });
});

describe('CidrSet', () => {
  it('hands out node subnets in order, from a moving candidate', () => {
    const set = new CidrSet('10.42.0.0/16', 24);
    assert.equal(set.size, 256);
    assert.equal(set.allocateNext(), '10.42.0.0/24');
    assert.equal(set.allocateNext(), '10.42.1.0/24');
    assert.equal(set.release('10.42.0.0/24'), true);
    assert.equal(set.allocateNext(), '10.42.2.0/24', 'a released subnet is not reused at once');
    assert.equal(set.occupy('10.42.3.0/24'), true);
    assert.equal(set.allocateNext(), '10.42.4.0/24');
    assert.equal(set.occupy('10.43.0.0/24'), false, 'outside the cluster CIDR');
    assert.equal(set.allocated, 4);
  });

  it('runs out, and occupies larger and smaller prefixes', () => {
    const set = new CidrSet('10.0.0.0/23', 24);
    assert.equal(set.occupy('10.0.0.0/23'), true);
    assert.equal(set.allocateNext(), undefined);
    set.release('10.0.1.0/24');
    assert.equal(set.allocateNext(), '10.0.1.0/24');
    const small = new CidrSet('10.0.0.0/23', 24);
    small.occupy('10.0.0.128/25');
    assert.equal(small.isUsed('10.0.0.0/24'), true);
    assert.equal(small.allocateNext(), '10.0.1.0/24');
  });

  it('does IPv6', () => {
    const set = new CidrSet('fd00:10:42::/56', 64);
    assert.equal(set.allocateNext(), 'fd00:10:42::/64');
    assert.equal(set.allocateNext(), 'fd00:10:42:1::/64');
    assert.throws(() => new CidrSet('fd00::/8', 64), /2\^16/);
    assert.throws(() => new CidrSet('10.0.0.0/16', 8), /does not fit/);
  });
});

describe('cidrSets', () => {
  it('reads --cluster-cidr: one CIDR or one of each family', () => {
    assert.deepEqual(
      cidrSets('10.42.0.0/16, fd00::/48', 24).map((s) => [s.cluster.family, s.nodeMaskSize]),
      [
        [4, 24],
        [6, 64],
      ],
    );
    assert.deepEqual(cidrSets('', 24), []);
    assert.throws(() => cidrSets('10.0.0.0/16,10.1.0.0/16', 24), /one CIDR of each/);
    assert.throws(() => cidrSets('bogus', 24), /invalid cluster CIDR/);
  });
});

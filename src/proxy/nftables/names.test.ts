import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  endpointNames,
  hashAndTruncate,
  isServiceChainName,
  lbMapName,
  servicePortChainNames,
} from './names.ts';

test("chain names are upstream kube-proxy's for the same service port and endpoint", () => {
  // Upstream's TestServicePortChainNameBase / endpoint chain names (pkg/proxy/nftables).
  assert.equal(hashAndTruncate('ns1/svc1/tcp/p80'), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(
    hashAndTruncate('ns1/svc1/tcp/p80__10.180.0.1/80'),
    '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
  );
  assert.deepEqual(servicePortChainNames('ns1/svc1', 'tcp', 'p80'), {
    cluster: 'service-ULMVA6XW-ns1/svc1/tcp/p80',
    local: 'local-ULMVA6XW-ns1/svc1/tcp/p80',
    external: 'external-ULMVA6XW-ns1/svc1/tcp/p80',
    firewall: 'firewall-ULMVA6XW-ns1/svc1/tcp/p80',
  });
  assert.deepEqual(endpointNames('ns1/svc1', 'tcp', 'p80', '10.180.0.1:80'), {
    chain: 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
    affinitySet: 'affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
  });
  assert.equal(lbMapName('service-ULMVA6XW-ns1/svc1/tcp/p80'), 'lb-service-ULMVA6XW-ns1/svc1/tcp/p80');
});

test('names longer than nft allows are truncated, keeping the hash that tells them apart', () => {
  const long = `${'n'.repeat(90)}/${'s'.repeat(63)}/tcp/${'p'.repeat(63)}__10.0.0.1/8080`;
  const a = hashAndTruncate(long);
  const b = hashAndTruncate(long.replace('10.0.0.1', '10.0.0.2'));
  assert.equal(a.length, 240);
  assert.ok(a.endsWith('...'));
  assert.notEqual(a, b);
});

test('service chains are told from the fixed ones by their slash', () => {
  assert.ok(isServiceChainName('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80'));
  assert.ok(!isServiceChainName('services'));
  assert.ok(!isServiceChainName('mark-for-masquerade'));
});

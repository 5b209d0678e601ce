import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type DnsOptions, parseResolvConf, podDnsConfig } from './dns.ts';

const host = parseResolvConf(
  '# host\nnameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch corp.example lan\noptions edns0 timeout:2\n',
);
const opts: DnsOptions = { clusterDns: ['10.43.0.10'], clusterDomain: 'cluster.local', host };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'team' }, spec: { containers: [], ...spec } };
}

test('parseResolvConf reads servers, searches and options', () => {
  assert.deepEqual(host, {
    servers: ['192.168.1.1', '8.8.8.8'],
    searches: ['corp.example', 'lan'],
    options: ['edns0', 'timeout:2'],
  });
});

test('ClusterFirst: cluster DNS, namespace searches then the host ones, ndots:5', () => {
  assert.deepEqual(podDnsConfig(pod(), opts), {
    servers: ['10.43.0.10'],
    searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'lan'],
    options: ['ndots:5'],
  });
});

test('ClusterFirst falls back to the host without cluster DNS, and for hostNetwork', () => {
  assert.deepEqual(podDnsConfig(pod(), { ...opts, clusterDns: [] }), host);
  assert.deepEqual(podDnsConfig(pod({ hostNetwork: true }), opts), host);
});

test('ClusterFirstWithHostNet keeps cluster DNS for hostNetwork pods', () => {
  const cfg = podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), opts);
  assert.deepEqual(cfg.servers, ['10.43.0.10']);
  assert.equal(cfg.searches[0], 'team.svc.cluster.local');
});

test('Default uses the host; None uses only dnsConfig; dnsConfig merges into the others', () => {
  assert.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), opts), host);
  assert.deepEqual(
    podDnsConfig(
      pod({
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['1.1.1.1'],
          searches: ['a.example'],
          options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }],
        },
      }),
      opts,
    ),
    { servers: ['1.1.1.1'], searches: ['a.example'], options: ['ndots:2', 'rotate'] },
  );
  const merged = podDnsConfig(
    pod({
      dnsConfig: { nameservers: ['1.1.1.1'], searches: ['extra'], options: [{ name: 'ndots', value: '1' }] },
    }),
    opts,
  );
  assert.deepEqual(merged.servers, ['10.43.0.10', '1.1.1.1']);
  assert.equal(merged.searches.at(-1), 'extra');
  assert.deepEqual(merged.options, ['ndots:1']);
});

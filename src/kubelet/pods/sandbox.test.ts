import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from '../contracts.ts';
import { podHostname, sandboxConfig } from './sandbox.ts';
import { testPod } from './testing.ts';

const opts = {
  podLogRoot: '/var/log/pods',
  dns: {
    clusterDns: ['10.43.0.10'],
    clusterDomain: 'cluster.local',
    host: { servers: ['1.1.1.1'], searches: [], options: [] },
  },
};

test('sandbox config: metadata, hostname, log dir, labels, ports, cgroup, security, sysctls', () => {
  const pod = testPod(
    {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ports: [
            { containerPort: 80, hostPort: 8080 },
            { containerPort: 53, protocol: 'UDP' },
          ],
        },
      ],
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 1000,
        supplementalGroups: [5],
        sysctls: [{ name: 'net.core.somaxconn', value: '1024' }],
      },
    },
    { labels: { app: 'web' }, annotations: { note: 'x' } },
  );
  const c = sandboxConfig(pod, 2, '/skiff/besteffort/poduid-1', opts);
  assert.deepEqual(c.metadata, { name: 'web', uid: 'uid-1', namespace: 'default', attempt: 2 });
  assert.equal(c.hostname, 'web');
  assert.equal(c.logDirectory, '/var/log/pods/default_web_uid-1');
  assert.deepEqual(c.labels, {
    app: 'web',
    [LABEL_POD_NAME]: 'web',
    [LABEL_POD_NAMESPACE]: 'default',
    [LABEL_POD_UID]: 'uid-1',
  });
  assert.equal(c.annotations?.note, 'x');
  assert.deepEqual(c.portMappings, [
    { protocol: 'TCP', containerPort: 80, hostPort: 8080 },
    { protocol: 'UDP', containerPort: 53 },
  ]);
  assert.equal(c.linux?.cgroupParent, '/skiff/besteffort/poduid-1');
  assert.deepEqual(c.linux?.securityContext, {
    namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
    runAsUser: { value: 1000 },
    runAsGroup: { value: 1000 },
    supplementalGroups: [5],
  });
  assert.deepEqual(c.linux?.sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(c.dnsConfig?.servers, ['10.43.0.10']);
});

test('hostname: spec.hostname, 63-character truncation, FQDN, none for host network', () => {
  assert.equal(podHostname(testPod({ hostname: 'h1' }), 'cluster.local'), 'h1');
  assert.equal(podHostname(testPod({}, { name: `${'a'.repeat(62)}-b` }), 'cluster.local'), 'a'.repeat(62));
  assert.equal(
    podHostname(testPod({ hostname: 'h', subdomain: 'sub', setHostnameAsFQDN: true }), 'cluster.local'),
    'h.sub.default.svc.cluster.local',
  );
  const hn = sandboxConfig(testPod({ hostNetwork: true }), 0, '', opts);
  assert.equal(hn.hostname, undefined);
  assert.equal(hn.linux?.securityContext?.namespaceOptions?.network, 'NODE');
});

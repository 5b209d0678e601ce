import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ApiError } from '../../api/errors.ts';
import { MemoryStore } from '../../storage/memory/store.ts';
import { FakeClock } from '../../util/clock.ts';
import { ensurePki } from '../auth/pki.ts';
import { bootstrapCluster } from '../bootstrap.ts';
import { Catalog } from '../catalog.ts';
import { Registry } from '../registry/registry.ts';
import { validateMeta } from '../registry/validate-meta.ts';
import { builtinResources } from '../resources/builtin.ts';
import { resolveKubeletTarget } from './connect.ts';

async function setup() {
  const clock = new FakeClock();
  const store = new MemoryStore({ clock });
  const catalog = new Catalog();
  for (const d of builtinResources()) catalog.add(d);
  const registry = new Registry({ store, clock, validateMeta });
  await bootstrapCluster(registry, catalog);
  return { registry, pods: catalog.get('', 'v1', 'pods')!, nodes: catalog.get('', 'v1', 'nodes')! };
}

const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as ApiError,
  );

describe('routing pod streams to the kubelet', () => {
  it('checks the pod, its node and the container as Kubernetes does, then builds the kubelet path', async () => {
    const { registry, pods, nodes } = await setup();
    const q = (s = '') => new URLSearchParams(s);
    await registry.create(pods, 'default', {
      metadata: { name: 'two' },
      spec: {
        containers: [
          { name: 'a', image: 'x' },
          { name: 'b', image: 'x' },
        ],
      },
    });
    const unscheduled = await err(
      resolveKubeletTarget(registry, pods, nodes, 'default', 'two', 'log', q('container=a')),
    );
    assert.equal(unscheduled?.code, 400);
    assert.equal(unscheduled?.message, 'pod two does not have a host assigned');
    const which = await err(resolveKubeletTarget(registry, pods, nodes, 'default', 'two', 'log', q()));
    assert.equal(which?.message, 'a container name must be specified for pod two, choose one of: [a b]');
    const bad = await err(
      resolveKubeletTarget(registry, pods, nodes, 'default', 'two', 'exec', q('container=zz')),
    );
    assert.equal(bad?.message, 'container zz is not valid for pod two');

    await registry.create(pods, 'default', {
      metadata: { name: 'one' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
    });
    const noNode = await err(resolveKubeletTarget(registry, pods, nodes, 'default', 'one', 'log', q()));
    assert.equal(noNode?.code, 404);
    assert.equal(noNode?.message, 'nodes "n1" not found');
    await registry.create(nodes, '', {
      metadata: { name: 'n1' },
      status: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.5' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
    });
    const n = await registry.get(nodes, '', 'n1');
    await registry.update(
      nodes,
      '',
      'n1',
      {
        ...n,
        status: {
          addresses: [{ type: 'InternalIP', address: '10.0.0.5' }],
          daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        },
      },
      { subresource: 'status' },
    );
    assert.deepEqual(
      await resolveKubeletTarget(
        registry,
        pods,
        nodes,
        'default',
        'one',
        'log',
        q('follow=true&tailLines=5'),
      ),
      {
        host: '10.0.0.5',
        port: 10250,
        path: '/containerLogs/default/one/c?follow=true&tailLines=5',
      },
    );
    assert.equal(
      (
        await resolveKubeletTarget(
          registry,
          pods,
          nodes,
          'default',
          'one',
          'exec',
          q('command=ls&stdout=true'),
        )
      ).path,
      '/exec/default/one/c?command=ls&stdout=true',
    );
    assert.equal(
      (await resolveKubeletTarget(registry, pods, nodes, 'default', 'one', 'portforward', q('ports=80')))
        .path,
      '/portForward/default/one?ports=80',
    );
  });

  it('relays pods/log from the kubelet with the API server’s client certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-connect-'));
    const pki = await ensurePki(dir, { hostnames: [], ips: [] });
    const { proxyGet } = await import('./connect.ts');
    // A stand-in for the kubelet's HTTPS endpoint: it checks the caller's certificate.
    const kubelet = createServer(
      {
        cert: pki.serving.cert,
        key: pki.serving.key,
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`log of ${req.url}\n`);
      },
    );
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
    const port = (kubelet.address() as AddressInfo).port;
    const front = createServer({ cert: pki.serving.cert, key: pki.serving.key }, (req, res) => {
      void proxyGet(
        { host: '127.0.0.1', port, path: '/containerLogs/default/one/c' },
        { cert: pki.admin.cert, key: pki.admin.key, ca: pki.ca.cert },
        req,
        res,
      );
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        import('node:https').then(({ get }) =>
          get(
            { host: '127.0.0.1', port: (front.address() as AddressInfo).port, path: '/', ca: pki.ca.cert },
            (res) => {
              let s = '';
              res.on('data', (d: Buffer) => {
                s += d.toString();
              });
              res.on('end', () => resolve(s));
            },
          ).on('error', reject),
        );
      });
      assert.equal(body, 'log of /containerLogs/default/one/c\n');
    } finally {
      kubelet.close();
      front.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

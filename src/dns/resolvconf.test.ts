import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostUpstreams, parseResolvConf, parseUpstream } from './resolvconf.ts';

test('parseResolvConf: nameservers, search, options, comments', () => {
  const rc = parseResolvConf(
    '# generated\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 ; link-local\nnameserver bogus\nsearch corp.example lab.example\noptions ndots:2 timeout:1\n',
  );
  assert.deepEqual(rc.nameservers, ['10.0.0.2', 'fe80::1%eth0']);
  assert.deepEqual(rc.search, ['corp.example', 'lab.example']);
  assert.deepEqual(rc.options, ['ndots:2', 'timeout:1']);
});

test('hostUpstreams: loopback stubs give way to systemd-resolved real list; never ourselves', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-dns-rc-'));
  try {
    const main = join(dir, 'resolv.conf');
    const real = join(dir, 'real.conf');
    writeFileSync(main, 'nameserver 127.0.0.53\n');
    writeFileSync(real, 'nameserver 192.0.2.53\nnameserver 127.0.0.1\n');
    assert.deepEqual(hostUpstreams({ resolvConf: main, systemdResolvConf: real }), [
      { host: '192.0.2.53', port: 53 },
    ]);
    // No real list: the loopback stub is kept (the server runs on the host, it can reach it)...
    assert.deepEqual(hostUpstreams({ resolvConf: main, systemdResolvConf: join(dir, 'none') }), [
      { host: '127.0.0.53', port: 53 },
    ]);
    // ...unless it is this server itself.
    assert.deepEqual(
      hostUpstreams({
        resolvConf: main,
        systemdResolvConf: join(dir, 'none'),
        self: { host: '0.0.0.0', port: 53 },
      }),
      [],
    );
    writeFileSync(main, 'nameserver 192.0.2.1\nnameserver 10.43.0.10\n');
    assert.deepEqual(hostUpstreams({ resolvConf: main, self: { host: '10.43.0.10', port: 53 } }), [
      { host: '192.0.2.1', port: 53 },
    ]);
    assert.deepEqual(hostUpstreams({ resolvConf: join(dir, 'missing') }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseUpstream', () => {
  assert.deepEqual(parseUpstream('1.1.1.1'), { host: '1.1.1.1', port: 53 });
  assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseUpstream('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseUpstream('::1'), { host: '::1', port: 53 });
  assert.throws(() => parseUpstream('dns.example'), /invalid upstream/);
});

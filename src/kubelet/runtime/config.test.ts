import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerdPaths, renderContainerdConfig } from './config.ts';

test('paths live under DIR/agent; the socket moves to /run/skiff/<hash> when DIR is long', () => {
  const p = containerdPaths('/var/lib/skiff');
  assert.equal(p.root, '/var/lib/skiff/agent/containerd');
  assert.equal(p.socket, '/var/lib/skiff/agent/run/containerd.sock');
  assert.equal(p.cniConfDir, '/var/lib/skiff/agent/cni/net.d');
  assert.equal(p.logFile, '/var/lib/skiff/agent/containerd/containerd.log');
  assert.equal(containerdPaths('/d', '/etc/cni/net.d').cniConfDir, '/etc/cni/net.d');
  const long = `/tmp/${'x'.repeat(120)}`;
  const q = containerdPaths(long);
  assert.match(q.socket, /^\/run\/skiff\/[0-9a-f]{12}\/containerd\.sock$/);
  assert.equal(containerdPaths(long).socket, q.socket, 'stable for a data dir');
  assert.notEqual(containerdPaths(`${long}y`).socket, q.socket);
  assert.ok(Buffer.byteLength(`${q.socket}.ttrpc`) < 108);
});

test('config.toml carries the settings this machine needs', () => {
  const toml = renderContainerdConfig({ paths: containerdPaths('/data'), pauseImage: 'skiff.local/pause:9' });
  for (const line of [
    'version = 2',
    'root = "/data/agent/containerd"',
    'address = "/data/agent/run/containerd.sock"',
    'restrict_oom_score_adj = true',
    'SystemdCgroup = false',
    'snapshotter = "overlayfs"',
    'BinaryName = "/usr/sbin/runc"',
    'bin_dir = "/usr/lib/cni"',
    'conf_dir = "/data/agent/cni/net.d"',
    'sandbox_image = "skiff.local/pause:9"',
    'config_path = "/data/agent/certs.d"',
    'stream_server_address = "127.0.0.1"',
    'stream_server_port = "0"',
  ]) {
    assert.ok(toml.includes(line), `missing: ${line}`);
  }
  assert.ok(toml.includes('"io.containerd.snapshotter.v1.btrfs"'));
});

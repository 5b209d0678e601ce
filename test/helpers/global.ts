/**
 * Once per integration/e2e run (`node --test --test-global-setup=test/helpers/global.ts`): after the
 * last test file, removes portmap's shared CNI-HOSTPORT-* chains if no network has a hostPort left in
 * them. Each test's own `skiff uninstall` keeps them (`sharedCniChains: false`), because another
 * test's CNI network may be adding a hostPort at that moment; when the run is over nothing is.
 * Nothing is touched while any rule is left in CNI-HOSTPORT-DNAT (someone else's hostPorts).
 */
import { sharedHostportCleanup } from '../../src/kubelet/runtime/cleanup.ts';
import { spawnRunner } from '../../src/util/exec/runner.ts';

export async function globalTeardown(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const iptables = (args: string[]) => spawnRunner.run('iptables', ['-w', '-t', 'nat', ...args]);
  const listed = await iptables(['-S']).catch(() => undefined);
  if (listed?.code !== 0) return;
  const cleanup = sharedHostportCleanup(listed.stdout);
  for (const args of cleanup.deletes) await iptables(args);
  for (const chain of cleanup.chains) {
    await iptables(['-F', chain]);
    await iptables(['-X', chain]);
  }
}

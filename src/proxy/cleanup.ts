/**
 * Removing every rule and chain skiff's proxy made (when a node stops for good: `skiff uninstall`,
 * `skiff agent --cleanup`): the jumps from the built-in chains into `SKIFF-` chains, then every
 * `SKIFF-` chain, in one iptables-restore transaction per table. Rules of other programs (a real
 * kube-proxy's `KUBE-` chains included) are left alone. Idempotent.
 */
import { CHAIN_PREFIX } from './chains.ts';
import { type IptablesRunner, parseSave, type Table } from './iptables.ts';

export interface CleanupResult {
  /** Jump rules deleted from built-in chains. */
  jumps: number;
  /** Chains deleted. */
  chains: number;
}

export async function cleanupRules(runner: IptablesRunner): Promise<CleanupResult> {
  const result: CleanupResult = { jumps: 0, chains: 0 };
  const input: string[] = [];
  for (const table of ['filter', 'nat'] as Table[]) {
    const saved = parseSave(await runner.save(table), table);
    const ours = saved.chains.filter((c) => c.startsWith(CHAIN_PREFIX));
    const jumps = saved.rules.filter((r) => {
      const chain = r.split(' ')[1] ?? '';
      return !chain.startsWith(CHAIN_PREFIX) && r.includes(` -j ${CHAIN_PREFIX}`);
    });
    if (!ours.length && !jumps.length) continue;
    input.push(`*${table}`);
    for (const r of jumps) input.push(`-D ${r.slice(3)}`);
    for (const c of ours) input.push(`:${c} - [0:0]`);
    for (const c of ours) input.push(`-X ${c}`);
    input.push('COMMIT');
    result.jumps += jumps.length;
    result.chains += ours.length;
  }
  if (input.length) await runner.restore(`${input.join('\n')}\n`);
  return result;
}

/**
 * Removing skiff's nftables table (when a node stops for good: `skiff uninstall`,
 * `skiff agent --cleanup`, and when kube-proxy starts in iptables mode, as upstream kube-proxy removes
 * the other modes' rules). One transaction; nothing outside the table is touched. Idempotent.
 */
import { FAMILY, TABLE } from './names.ts';
import { chainsOfListing, type NftRunner } from './runner.ts';
import { NftScript } from './script.ts';

export interface NftCleanupResult {
  /** Whether the table was there (and is gone now). */
  table: boolean;
  /** Chains it held. */
  chains: number;
}

export async function cleanupNftables(runner: NftRunner): Promise<NftCleanupResult> {
  const listing = await runner.listTable(FAMILY, TABLE);
  if (listing === null) return { table: false, chains: 0 };
  // `add` first: no error if it went meanwhile.
  await runner.apply(new NftScript().addTable().deleteTable().text());
  return { table: true, chains: chainsOfListing(listing).length };
}

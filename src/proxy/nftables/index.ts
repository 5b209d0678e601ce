/** kube-proxy's nftables mode: skiff's own table `ip skiff-proxy`. */
export { cleanupNftables, type NftCleanupResult } from './cleanup.ts';
export { FAMILY, TABLE } from './names.ts';
export { NftProxier, type NftProxierOptions } from './proxier.ts';
export { ExecNftRunner, type ExecNftRunnerOptions, NftError, type NftRunner } from './runner.ts';

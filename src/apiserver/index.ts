/**
 * The API server's public face: {@link createApiServer} wires the server with skiff's patch
 * implementations, metadata validation and table printers.
 */
import type { KubeObject } from './object.ts';
import { applyPatch } from './patch/index.ts';
import { validateMeta } from './registry/validate-meta.ts';
import { ApiServer, type ApiServerOptions } from './server.ts';

import { builtinPrinters } from './table/printers/index.ts';

export { ApiServer } from './server.ts';

export type CreateApiServerOptions = Omit<ApiServerOptions, 'patch' | 'validateMeta' | 'printers'>;

export function createApiServer(opts: CreateApiServerOptions): ApiServer {
  return new ApiServer({
    ...opts,
    validateMeta: validateMeta,
    printers: builtinPrinters(),
    patch: (contentType, original, patch, def) =>
      applyPatch(contentType, original, patch, {
        group: def.group,
        version: def.version,
        kind: def.kind,
      }) as KubeObject,
  });
}

/**
 * `node:http`, loaded the CommonJS way. An ESM `import … from 'node:http'` builds the module's
 * namespace from every export, which runs http's lazy getters and so loads Node's bundled undici
 * (fetch, WebSocket) into every process that imports it: measured here, +19 MB RSS at start and
 * 0.8 MB of source text kept on the heap. `require` hands over the exports object without touching
 * the getters. Import `http` from here instead of from 'node:http' (types may still come from there).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http: typeof import('node:http') = require('node:http');

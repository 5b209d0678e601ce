/**
 * A stand-in for `containerd --config FILE` in the supervisor's unit tests: reads the gRPC address
 * and root from the config, answers CRI Version on the socket, prints a line to its log, and exits
 * on SIGTERM. If `<root>/fail-start` exists it prints a message and exits 1 at once.
 */
import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { encodeStrings } from '../probe.ts';

const config = readFileSync(process.argv[process.argv.indexOf('--config') + 1]!, 'utf8');
const address = /\[grpc\]\s*\n\s*address = "([^"]+)"/.exec(config)![1]!;
const root = /^root = "([^"]+)"/m.exec(config)![1]!;
if (existsSync(join(root, 'fail-start'))) {
  console.error('fake containerd: failing at start as asked');
  process.exit(1);
}
const raw = (b: Buffer) => b;
const service: ServiceDefinition = {
  Version: {
    path: '/runtime.v1.RuntimeService/Version',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};
const server = new Server();
server.addService(service, {
  Version: (_call: unknown, cb: (err: null, res: Buffer) => void) =>
    cb(null, encodeStrings({ 1: '0.1.0', 2: 'fakecontainerd', 3: '9.9.9', 4: 'v1' })),
});
server.bindAsync(`unix://${address}`, ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  console.log(`fake containerd serving on ${address}`);
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});

/**
 * Connection load generator (run inside a network namespace by bench/proxy/run.ts):
 * `node load.ts HOST PORT DURATION_MS CONCURRENCY` opens TCP connections to HOST:PORT, `CONCURRENCY`
 * at a time, each reading the server's reply until it closes, for DURATION_MS; prints
 * `{"conns":N,"errors":N,"ms":N}`.
 */
import { connect } from 'node:net';

const [host = '127.0.0.1', port = '80', durationArg = '2000', concArg = '16'] = process.argv.slice(2);
const duration = Number(durationArg);
const deadline = Date.now() + duration;
let conns = 0;
let errors = 0;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host, port: Number(port) });
    let got = false;
    s.on('data', () => {
      got = true;
    });
    s.on('end', () => {
      if (got) conns++;
      else errors++;
      resolve();
    });
    s.on('error', () => {
      errors++;
      resolve();
    });
  });
}

async function worker(): Promise<void> {
  while (Date.now() < deadline) await once();
}

const start = Date.now();
await Promise.all(Array.from({ length: Number(concArg) }, worker));
process.stdout.write(`${JSON.stringify({ conns, errors, ms: Date.now() - start })}\n`);

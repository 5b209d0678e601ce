/**
 * Runs startTestApiServer() in its own process (for the scale check, so the simulator's CPU can be
 * measured apart from the server's): prints the connection config as one JSON line on stdout, then
 * serves until stdin closes or SIGTERM. On exit it prints its CPU use (ms) as a second JSON line.
 */
import { startTestApiServer } from '../client/testing.ts';

const server = await startTestApiServer();
const cpu0 = process.cpuUsage();
process.stdout.write(`${JSON.stringify({ config: server.config })}\n`);
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  const u = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ cpuMs: Math.round((u.user + u.system) / 1000) })}\n`);
  await server.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage(cpu0);
    process.send?.({ cpuMs: Math.round((u.user + u.system) / 1000) });
  }
});

/**
 * Writing plain HTTP answers on a raw (upgrade) socket, and relaying an upgraded connection.
 */
import { http } from '../../../util/node-http.ts';

const { STATUS_CODES } = http;

import type { Duplex } from 'node:stream';

/** Writes a complete HTTP/1.1 response and ends the socket. */
export function writeHttpError(
  socket: Duplex,
  code: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(body);
  socket.end(
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n${payload.toString()}`,
  );
}

/** Writes a `101 Switching Protocols` head with the given headers (from the upstream answer). */
export function writeSwitchingProtocols(socket: Duplex, rawHeaders: string[]): void {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (let i = 0; i < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}

/** Pipes two sockets into each other; when either ends or fails both are torn down. */
export function splice(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      a.destroy();
      b.destroy();
      resolve();
    };
    a.pipe(b);
    b.pipe(a);
    for (const s of [a, b]) {
      s.on('error', finish);
      s.on('close', finish);
    }
  });
}

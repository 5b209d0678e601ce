/**
 * The websocket side of port-forward for kubectl ≥ 1.31: client-go's TunnelingConnection carries the
 * SPDY byte stream in websocket binary messages (no channel byte), so unwrapping is a byte relay.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Logger } from '../../../util/log.ts';

/** Shovels bytes between a websocket (binary messages) and a socket, with backpressure both ways. */
export function tunnel(ws: WebSocket, up: Duplex, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      up.destroy();
      if (ws.readyState === ws.OPEN) ws.close(1000);
      else ws.terminate();
      resolve();
    };
    ws.on('message', (data: Buffer) => {
      if (!up.write(data)) {
        ws.pause();
        up.once('drain', () => ws.resume());
      }
    });
    up.on('data', (c: Buffer) => {
      ws.send(c);
      if (ws.bufferedAmount > 1 << 20) {
        up.pause();
        const wait = () => (ws.bufferedAmount > 1 << 18 ? setTimeout(wait, 5) : up.resume());
        setTimeout(wait, 5);
      }
    });
    up.on('end', finish);
    up.on('close', finish);
    up.on('error', (err) => {
      log.debug({ err }, 'port-forward upstream error');
      finish();
    });
    ws.on('close', finish);
    ws.on('error', finish);
  });
}

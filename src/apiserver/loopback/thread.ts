/**
 * Loopback connections from worker threads: a component in a worker dials the API server's loopback
 * listener in the main thread over a fresh MessageChannel per connection ({@link PortSocket} at
 * both ends). The worker asks with a dial message on its parent port carrying the channel's other
 * port; the main thread hands that port, as a server-end socket, to the listener.
 *
 * The loopback token travels to the worker in its workerData (memory of this process only).
 */
import type { Duplex } from 'node:stream';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { LoopbackConnection } from '../../client/transport.ts';
import { PortSocket } from './port-socket.ts';

const DIAL = 'skiff-loopback-dial';

interface DialMessage {
  type: typeof DIAL;
  port: MessagePort;
}

function isDial(m: unknown): m is DialMessage {
  return (m as Partial<DialMessage> | null)?.type === DIAL;
}

/**
 * In a worker thread: a {@link LoopbackConnection} whose connections go through `parent` (the
 * worker's parentPort) to the main thread, authenticated by `authorization` (the loopback token).
 */
export function threadLoopbackConnection(
  parent: Pick<MessagePort, 'postMessage'>,
  authorization: string,
): LoopbackConnection {
  return Object.freeze({
    dial: (): Duplex => {
      const { port1, port2 } = new MessageChannel();
      parent.postMessage({ type: DIAL, port: port2 } satisfies DialMessage, [port2]);
      return new PortSocket(port1, { allowHalfOpen: false });
    },
    authorization: () => authorization,
    toJSON: () => ({ loopback: true, thread: true }),
  });
}

/**
 * In the main thread: serves the dials of `worker` by handing each connection's server end to
 * `accept` (the API server's loopback listener). Returns a function that stops listening.
 */
export function serveThreadDials(worker: Worker, accept: (serverEnd: Duplex) => void): () => void {
  const onMessage = (m: unknown) => {
    if (!isDial(m)) return;
    const socket = new PortSocket(m.port, { allowHalfOpen: true });
    try {
      accept(socket);
    } catch {
      socket.destroy(); // not serving: the worker's request fails as on a refused connection
    }
  };
  worker.on('message', onMessage);
  return () => worker.off('message', onMessage);
}

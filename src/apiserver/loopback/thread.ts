/**
 * Loopback connections from worker threads: a component in a worker dials the API server's loopback
 * listener in the main thread over a fresh MessageChannel per connection ({@link PortSocket} at
 * both ends). The worker asks with a dial message on its parent port carrying the channel's other
 * port; the main thread hands that port, as a server-end socket, to the listener.
 *
 * Unary requests (all but watches and upgrades) go as calls on one more channel (thread-call.ts).
 *
 * The loopback token travels to the worker in its workerData (memory of this process only).
 */
import type { Duplex } from 'node:stream';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import type { CallAnswer, CallRequest, LoopbackConnection } from '../../client/transport.ts';
import { PortSocket } from './port-socket.ts';
import { serveThreadCalls, ThreadCaller } from './thread-call.ts';

const DIAL = 'skiff-loopback-dial';
/** Opens the worker's channel for unary calls (thread-call.ts); sent once, at its first call. */
const CALLS = 'skiff-loopback-calls';

interface DialMessage {
  type: typeof DIAL | typeof CALLS;
  port: MessagePort;
}

function isDial(m: unknown): m is DialMessage {
  const type = (m as Partial<DialMessage> | null)?.type;
  return type === DIAL || type === CALLS;
}

/** What the main thread serves a worker's loopback connections and calls with (the API server's). */
export interface ThreadLoopbackServer {
  /** Serves a connection's server end. */
  accept(serverEnd: Duplex): void;
  /** Serves a unary call. */
  call(req: CallRequest): Promise<CallAnswer>;
}

/**
 * In a worker thread: a {@link LoopbackConnection} whose connections go through `parent` (the
 * worker's parentPort) to the main thread, authenticated by `authorization` (the loopback token).
 */
export function threadLoopbackConnection(
  parent: Pick<MessagePort, 'postMessage'>,
  authorization: string,
): LoopbackConnection {
  let caller: ThreadCaller | undefined;
  return Object.freeze({
    dial: (): Duplex => {
      const { port1, port2 } = new MessageChannel();
      parent.postMessage({ type: DIAL, port: port2 } satisfies DialMessage, [port2]);
      return new PortSocket(port1, { allowHalfOpen: false });
    },
    authorization: () => authorization,
    call: (req: CallRequest): Promise<CallAnswer> => {
      caller ??= new ThreadCaller((port) =>
        parent.postMessage({ type: CALLS, port } satisfies DialMessage, [port]),
      );
      return caller.call(req);
    },
    toJSON: () => ({ loopback: true, thread: true }),
  });
}

/**
 * In the main thread: serves the dials of `worker` by handing each connection's server end to
 * `server.accept`, and its unary calls with `server.call` (the API server's loopback listener).
 * Returns a function that stops listening and closes the calls' channel.
 */
export function serveThreadDials(worker: Worker, server: ThreadLoopbackServer): () => void {
  const closers: (() => void)[] = [];
  const onMessage = (m: unknown) => {
    if (!isDial(m)) return;
    if (m.type === CALLS) {
      closers.push(serveThreadCalls(m.port, (req) => server.call(req)));
      return;
    }
    const socket = new PortSocket(m.port, { allowHalfOpen: true });
    try {
      server.accept(socket);
    } catch {
      socket.destroy(); // not serving: the worker's request fails as on a refused connection
    }
  };
  worker.on('message', onMessage);
  return () => {
    worker.off('message', onMessage);
    for (const close of closers) close();
  };
}

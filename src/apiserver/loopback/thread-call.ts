/**
 * Unary loopback calls (call.ts) from a worker thread: the worker's calls travel to the main thread
 * on one MessageChannel of their own, as `{id, req}` messages answered by `{id, answer}` or
 * `{id, error}`. Bodies cross in fresh ArrayBuffers that are transferred, never a pooled Buffer's
 * whole backing store.
 *
 * A worker whose channel closes (the main thread stopped serving it) has its calls in flight
 * rejected with ECONNRESET, and its later calls with ECONNREFUSED, as a client of a closed listener.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { CallAnswer, CallRequest } from '../../client/transport.ts';
import { MemorySocketError } from './socket-base.ts';

type CallMessage = { id: number; req: CallRequest };
type AnswerMessage =
  | { id: number; answer: CallAnswer }
  | { id: number; error: { message: string; code?: string } };

/** `bytes` in an ArrayBuffer of its own, and that buffer to transfer. */
function own(bytes: Uint8Array): [Uint8Array, ArrayBuffer] {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return [copy, copy.buffer];
}

/** The worker's end: sends calls and matches answers to them. */
export class ThreadCaller {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve: (a: CallAnswer) => void; reject: (e: Error) => void }>();
  #next = 1;
  #closed = false;

  /**
   * Opens the channel: `open` gets the main thread's end of it (to post to the main thread with the
   * port transferred). The port keeps the thread alive only while calls are in flight.
   */
  constructor(open: (mainEnd: MessagePort) => void) {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (m: AnswerMessage) => this.#onAnswer(m));
    port1.on('close', () => this.#onClose());
    port1.unref();
    open(port2);
  }

  call(req: CallRequest): Promise<CallAnswer> {
    if (this.#closed) {
      return Promise.reject(
        new MemorySocketError(
          'ECONNREFUSED',
          'connect ECONNREFUSED: the API server is not serving (loopback)',
        ),
      );
    }
    const id = this.#next++;
    const msg: CallMessage = { id, req };
    const transfer: ArrayBuffer[] = [];
    if (req.body) {
      const [body, buf] = own(req.body);
      msg.req = { ...req, body };
      transfer.push(buf);
    }
    return new Promise<CallAnswer>((resolve, reject) => {
      if (this.#pending.size === 0) this.#port.ref();
      this.#pending.set(id, { resolve, reject });
      this.#port.postMessage(msg, transfer);
    });
  }

  #onAnswer(m: AnswerMessage): void {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    if (this.#pending.size === 0) this.#port.unref();
    if ('answer' in m) p.resolve(m.answer);
    else p.reject(new MemorySocketError(m.error.code ?? 'ECONNRESET', m.error.message));
  }

  #onClose(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      p.reject(
        new MemorySocketError('ECONNRESET', 'socket hang up: the API server closed the loopback channel'),
      );
    }
    this.#pending.clear();
  }
}

/**
 * The main thread's end: serves each call on `port` with `call` (the API server's loopback calls)
 * and posts the answer back. Returns a function that closes the channel.
 */
export function serveThreadCalls(
  port: MessagePort,
  call: (req: CallRequest) => Promise<CallAnswer>,
): () => void {
  port.on('message', (m: CallMessage) => {
    let served: Promise<CallAnswer>;
    try {
      served = call(m.req);
    } catch (err) {
      served = Promise.reject(err);
    }
    served.then(
      (answer) => {
        const [body, buf] = own(answer.body);
        port.postMessage({ id: m.id, answer: { ...answer, body } } satisfies AnswerMessage, [buf]);
      },
      (err: Error & { code?: string }) => {
        port.postMessage({
          id: m.id,
          error: { message: err.message, code: err.code },
        } satisfies AnswerMessage);
      },
    );
  });
  return () => port.close();
}

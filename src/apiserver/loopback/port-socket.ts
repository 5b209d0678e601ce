/**
 * A connection between two threads of this process: each end is a {@link PortSocket} over one
 * MessagePort of a MessageChannel. A component running in a worker thread (the scheduler) reaches
 * the API server's loopback listener in the main thread through it, with the same HTTP/1.1 as an
 * in-memory {@link MemorySocket} pair and nothing another process could reach.
 *
 * Contract, as a `net.Socket` (and MemorySocket) behaves:
 * - bytes written at one end are read at the other, in order;
 * - backpressure: a writer may have at most {@link WINDOW_BYTES} unread by the peer; beyond that its
 *   write callbacks wait until the peer's reader consumes (acknowledgements flow back, one per
 *   {@link ACK_BYTES} consumed);
 * - `end()` is the peer's 'end' (FIN); `destroy()` before a clean end resets the peer (it is
 *   destroyed too, what it had not read is lost); a peer thread that dies closes the port, which
 *   destroys this end;
 * - idle timeout and the no-op tuning calls come from {@link SocketBase}.
 *
 * Each chunk is copied into a fresh ArrayBuffer that is transferred (never the pooled Buffer's whole
 * backing store).
 */
import type { MessagePort } from 'node:worker_threads';
import { epipe, SocketBase } from './socket-base.ts';

/** Most bytes one end may have in flight (sent, not yet read by the peer). */
export const WINDOW_BYTES = 1 << 20;

/**
 * Consumed bytes are acknowledged once this many have gathered, as TCP sends window updates, not an
 * acknowledgement per chunk: every message wakes the peer's thread, which costs more than small
 * chunks do. A quarter of the window keeps a writer that fills it moving.
 */
export const ACK_BYTES = WINDOW_BYTES / 4;

/** What travels on the port. */
type Frame =
  | { d: Uint8Array } // data
  | { a: number } // acknowledgement: the peer's reader consumed this many bytes
  | { e: 1 } // end of the sender's writes (FIN)
  | { x: 1 }; // reset

export class PortSocket extends SocketBase {
  readonly #port: MessagePort;
  /** Bytes sent and not yet acknowledged by the peer. */
  #inFlight = 0;
  /** A write waiting for the window to open. */
  #blocked: ((err?: Error | null) => void) | null = null;
  /** Bytes received and consumed by our reader, not yet acknowledged. */
  #toAck = 0;
  /** Bytes received that our reader has not asked for yet (push returned false). */
  #held = 0;
  #ackScheduled = false;
  #gotEnd = false;

  /**
   * One end over `port` (the other end is a PortSocket over the channel's other port, in another
   * thread). `allowHalfOpen` as net: false for a client end, true for a server end.
   */
  constructor(port: MessagePort, opts: { allowHalfOpen: boolean }) {
    super({ allowHalfOpen: opts.allowHalfOpen });
    this.#port = port;
    port.on('message', (f: Frame) => this.#onFrame(f));
    port.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.touch();
    if (this.#held > 0) {
      this.#toAck += this.#held;
      this.#held = 0;
      this.#scheduleAck();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (err?: Error | null) => void,
  ): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#post({ e: 1 });
    callback();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.clearTimer();
    const blocked = this.#blocked;
    this.#blocked = null;
    blocked?.(epipe());
    // An abrupt close resets the peer; after a clean end in both directions there is nothing to say.
    if (!(this.writableFinished && this.#gotEnd)) this.#post({ x: 1 });
    this.#port.close();
    callback(err);
  }

  #send(chunk: Buffer, callback: (err?: Error | null) => void): void {
    this.touch();
    const n = chunk.length;
    const copy = new Uint8Array(n);
    copy.set(chunk);
    try {
      // Transferred: `copy` is detached (length 0) from here on.
      this.#port.postMessage({ d: copy } satisfies Frame, [copy.buffer]);
    } catch {
      callback(epipe());
      return;
    }
    this.#inFlight += n;
    if (this.#inFlight < WINDOW_BYTES) callback();
    else this.#blocked = callback;
  }

  #onFrame(f: Frame): void {
    if (this.destroyed) return;
    if ('d' in f) {
      this.touch();
      const n = f.d.length;
      if (this.push(Buffer.from(f.d.buffer, f.d.byteOffset, n))) {
        this.#toAck += n;
        this.#scheduleAck();
      } else {
        this.#held += n;
      }
    } else if ('a' in f) {
      this.#inFlight -= f.a;
      if (this.#blocked && this.#inFlight < WINDOW_BYTES) {
        const cb = this.#blocked;
        this.#blocked = null;
        cb();
      }
    } else if ('e' in f) {
      this.#gotEnd = true;
      this.push(null);
    } else if ('x' in f) {
      this.destroy();
    }
  }

  /** Acknowledgements go out once {@link ACK_BYTES} were consumed, at most once per turn of the event loop. */
  #scheduleAck(): void {
    if (this.#ackScheduled || this.#toAck < ACK_BYTES) return;
    this.#ackScheduled = true;
    setImmediate(() => {
      this.#ackScheduled = false;
      if (this.#toAck < ACK_BYTES || this.destroyed) return;
      const a = this.#toAck;
      this.#toAck = 0;
      this.#post({ a });
    });
  }

  #post(f: Frame): void {
    try {
      this.#port.postMessage(f);
    } catch {
      // The port is closed: the peer is gone, and 'close' tears this end down.
    }
  }
}

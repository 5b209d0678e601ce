/**
 * An in-memory connection: two {@link MemorySocket}s, each the other's peer, that carry bytes between
 * an HTTP client and an HTTP server in the same process with no TCP, no TLS and no file descriptor.
 * Nothing outside the process can reach either end.
 *
 * Each end behaves like the `net.Socket` node's HTTP client and server expect:
 * - bytes written to one end are read from the other, in order, on a later turn of the event loop
 *   (as over TCP), with backpressure (a write's callback waits until the reader asks for more);
 * - `end()` on one end is the peer's 'end' (a FIN); `destroy()` before the end was written tears the
 *   peer down too (a reset: what it had not read is lost); after a clean end the peer drains first;
 * - `setTimeout(ms, cb)` is an idle timeout ('timeout' after ms without reads or writes; 0 turns it
 *   off and removes `cb`), as on a net.Socket; `setNoDelay`, `setKeepAlive`, `ref` and `unref` do
 *   nothing (there is no kernel socket to tune, and an in-memory stream never holds the event loop).
 */
import { epipe, MemorySocketError, SocketBase } from './socket-base.ts';

export { MemorySocketError };

export class MemorySocket extends SocketBase {
  #peer: MemorySocket | null = null;
  /** The callback of a write the peer has no room for yet; called when the peer reads. */
  #blocked: ((err?: Error | null) => void) | null = null;

  /** Two connected ends: [client, server]. The client end closes itself when the server ends (like net.connect); the server end allows half-open connections (like an http.Server's sockets). */
  static pair(): [MemorySocket, MemorySocket] {
    const client = new MemorySocket({ allowHalfOpen: false });
    const server = new MemorySocket({ allowHalfOpen: true });
    client.#peer = server;
    server.#peer = client;
    return [client, server];
  }

  private constructor(opts: { allowHalfOpen: boolean }) {
    super({ allowHalfOpen: opts.allowHalfOpen });
  }

  override _read(): void {
    this.touch();
    const peer = this.#peer;
    if (peer) peer.#release();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#deliver(chunk, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (err?: Error | null) => void,
  ): void {
    this.#deliver(
      chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)),
      callback,
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    const peer = this.#peer;
    if (peer && !peer.destroyed) peer.push(null);
    callback();
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.clearTimer();
    const peer = this.#peer;
    this.#peer = null;
    const blocked = this.#blocked;
    this.#blocked = null;
    blocked?.(epipe());
    if (peer) {
      peer.#peer = null;
      // An abrupt close resets the peer's side; after a clean end (_final) the peer drains first.
      if (!this.writableFinished) peer.destroy();
      // The peer's pending write can never be read now.
      const theirs = peer.#blocked;
      peer.#blocked = null;
      theirs?.(epipe());
    }
    callback(err);
  }

  /**
   * Hands `chunk` to the peer on the next turn of the event loop (setImmediate), not at once: like a
   * TCP connection, each hop between client and server then passes through the event loop, so
   * in-process callers take turns with network connections and timers instead of running ahead of
   * them in one unbroken chain of callbacks.
   */
  #deliver(chunk: Buffer, callback: (err?: Error | null) => void): void {
    this.touch();
    setImmediate(() => {
      const peer = this.#peer;
      if (!peer || peer.destroyed) {
        callback(epipe());
        return;
      }
      peer.touch();
      if (peer.push(chunk)) callback();
      else this.#blocked = callback;
    });
  }

  /** The peer read: a write waiting for room may complete. */
  #release(): void {
    const cb = this.#blocked;
    if (!cb) return;
    this.#blocked = null;
    cb();
  }
}

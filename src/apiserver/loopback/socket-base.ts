/**
 * What every in-process socket (an in-memory pair in one thread, or a MessagePort between threads)
 * shares so node's HTTP client and server can use it as a `net.Socket`: an idle timeout with
 * net.Socket's contract, the no-op tuning calls, and the errors a broken connection reports.
 */
import { Duplex, type DuplexOptions } from 'node:stream';

/** An error with the `code` a net.Socket would give (EPIPE, ECONNRESET). */
export class MemorySocketError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'MemorySocketError';
    this.code = code;
  }
}

/** The error a write on a closed connection gets. */
export function epipe(): MemorySocketError {
  return new MemorySocketError('EPIPE', 'write EPIPE: the connection was closed');
}

export abstract class SocketBase extends Duplex {
  #timeoutMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerMs = 0;

  constructor(opts: DuplexOptions) {
    super(opts);
  }

  /** The idle timeout in ms (0: none), as net.Socket's `timeout`. */
  get timeout(): number {
    return this.#timeoutMs;
  }

  /**
   * An idle timeout, with net.Socket's contract: 'timeout' after `ms` without reads or writes
   * (subclasses call {@link touch} on activity); 0 turns it off and removes `callback`.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`timeout must be a non-negative number, got ${ms}`);
    this.#timeoutMs = ms;
    if (ms === 0) {
      this.clearTimer();
      if (callback) this.removeListener('timeout', callback);
      return this;
    }
    if (callback) this.once('timeout', callback);
    if (this.#timer && this.#timerMs === ms) {
      this.#timer.refresh();
    } else if (!this.destroyed) {
      this.clearTimer();
      // Kept after it fires: activity re-arms it (refresh), as net.Socket's idle timer.
      this.#timer = setTimeout(() => this.emit('timeout'), ms);
      this.#timer.unref();
      this.#timerMs = ms;
    }
    return this;
  }

  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** Activity: re-arms the idle timer. */
  protected touch(): void {
    this.#timer?.refresh();
  }

  protected clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

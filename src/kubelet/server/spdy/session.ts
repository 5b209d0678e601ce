/**
 * A SPDY/3.1 session over one byte stream, interoperable with Go's moby/spdystream (what kubectl,
 * client-go, the kubelet and containerd's streaming server use):
 *
 * - streams are opened with SYN_STREAM (client: odd ids, server: even ids) and accepted with
 *   SYN_REPLY; a peer drops DATA sent on a stream before it replied, so a SpdyStream opened here is
 *   only writable once `replied` resolved (writes wait for it);
 * - DATA with FIN half-closes a direction; RST_STREAM aborts a stream; GOAWAY ends the session;
 * - PINGs from the peer are echoed; SETTINGS' initial window is honoured;
 * - flow control: spdystream implements none — it never sends SETTINGS or WINDOW_UPDATE and ignores
 *   them. So flow control is on only between peers that show they do it: a session created with
 *   `enforceSendWindow` announces its window with SETTINGS and stops sending at the peer's window; a
 *   session credits received bytes back with WINDOW_UPDATE (as its reader consumes them) only once
 *   the peer sent SETTINGS or WINDOW_UPDATE. Sending WINDOW_UPDATEs to a Go peer is not harmless:
 *   bytes it has not read when it closes the connection make its kernel answer with a TCP RST,
 *   which discards the end of its output still in our receive buffer (measured with containerd).
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { Logger } from '../../../util/log.ts';
import { silentLogger } from '../../../util/log.ts';
import {
  encodeFrame,
  type Frame,
  FrameParser,
  RstStatus,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SpdyProtocolError,
} from './frames.ts';
import { HeaderCompressor, HeaderDecompressor, type SpdyHeaders } from './headers.ts';

export const DEFAULT_WINDOW = 64 * 1024;
/** Data is cut into frames of at most this size. */
const MAX_DATA_FRAME = 32 * 1024;

export interface SpdySessionOptions {
  /** This side opened the connection (it sent the HTTP upgrade request): odd stream ids. */
  client: boolean;
  /** Wait for the peer's WINDOW_UPDATEs before sending past its window (default false; see above). */
  enforceSendWindow?: boolean;
  logger?: Logger;
}

/** The peer reset a stream (RST_STREAM) or the session ended under it. */
export class SpdyStreamResetError extends Error {
  override name = 'SpdyStreamResetError';
  readonly status: number;
  constructor(status: number) {
    super(`SPDY stream reset (status ${status})`);
    this.status = status;
  }
}

/** One SPDY stream: a Duplex whose readable side is the peer's DATA and writable side ours. */
export class SpdyStream extends Duplex {
  readonly id: number;
  /** Headers of the SYN_STREAM that opened it. */
  readonly headers: SpdyHeaders;
  /**
   * Resolves once the stream is accepted: with the peer's SYN_REPLY headers for streams opened here,
   * with our own reply headers for streams the peer opened (after `reply()`). Rejects if reset first.
   */
  readonly replied: Promise<SpdyHeaders>;
  readonly #session: SpdySession;
  #resolveReply!: (h: SpdyHeaders) => void;
  #rejectReply!: (e: Error) => void;
  #isReplied: boolean;
  #sendWindow: number;
  #windowWaiters: (() => void)[] = [];
  #credit = 0;
  #remoteFin = false;
  #localFin = false;
  #reset = false;

  constructor(session: SpdySession, id: number, headers: SpdyHeaders, local: boolean, sendWindow: number) {
    super({ allowHalfOpen: true });
    this.id = id;
    this.headers = headers;
    this.#session = session;
    this.#sendWindow = sendWindow;
    this.#isReplied = !local;
    this.replied = new Promise((resolve, reject) => {
      this.#resolveReply = resolve;
      this.#rejectReply = reject;
    });
    this.replied.catch(() => undefined);
  }

  /** The first value of a header (names are lowercase). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Accepts a stream the peer opened (sends SYN_REPLY). */
  reply(headers: SpdyHeaders = {}, fin = false): Promise<void> {
    if (fin) this.#localFin = true;
    const sent = this.#session.send(async (c) => ({
      type: 'syn_reply',
      streamId: this.id,
      fin,
      block: await c.compress(headers),
    }));
    // Our DATA may follow only once the reply is on its way (a peer drops data before it).
    this.#resolveReply(headers);
    return sent;
  }

  /** Aborts the stream (RST_STREAM). */
  reset(status: number = RstStatus.CANCEL): void {
    if (this.#reset) return;
    this.#reset = true;
    void this.#session.send(() => ({ type: 'rst_stream', streamId: this.id, status })).catch(() => undefined);
    this.destroy();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#reset || this.#session.closed) {
      cb(new SpdyStreamResetError(RstStatus.CANCEL));
      return;
    }
    this.#writeAll(chunk).then(() => cb(), cb);
  }

  async #writeAll(chunk: Buffer): Promise<void> {
    await this.replied;
    let off = 0;
    while (off < chunk.length) {
      let n = Math.min(MAX_DATA_FRAME, chunk.length - off);
      if (this.#session.enforceSendWindow) {
        while (this.#sendWindow <= 0) await new Promise<void>((r) => this.#windowWaiters.push(r));
        n = Math.min(n, this.#sendWindow);
        this.#sendWindow -= n;
      }
      const data = chunk.subarray(off, off + n);
      off += n;
      await this.#session.send(() => ({ type: 'data', streamId: this.id, fin: false, data }));
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.replied
      .then(() =>
        this.#session.send(() => ({ type: 'data', streamId: this.id, fin: true, data: Buffer.alloc(0) })),
      )
      .then(() => {
        this.#localFin = true;
        this.#maybeDone();
        cb();
      }, cb);
  }

  override _read(): void {
    if (this.#credit > 0 && !this.#remoteFin && this.#session.peerFlowControl) {
      const delta = this.#credit;
      this.#credit = 0;
      void this.#session
        .send(() => ({ type: 'window_update', streamId: this.id, delta }))
        .catch(() => undefined);
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#reset && !(this.#localFin && this.#remoteFin) && !this.#session.closed) {
      this.#reset = true;
      void this.#session
        .send(() => ({ type: 'rst_stream', streamId: this.id, status: RstStatus.CANCEL }))
        .catch(() => undefined);
    }
    this.#rejectReply(err ?? new SpdyStreamResetError(RstStatus.CANCEL));
    for (const w of this.#windowWaiters.splice(0)) w();
    this.#session.forget(this.id);
    cb(err);
  }

  // ---- called by the session ----

  onReply(headers: SpdyHeaders, fin: boolean): void {
    if (!this.#isReplied) {
      this.#isReplied = true;
      this.#resolveReply(headers);
    }
    if (fin) this.onData(Buffer.alloc(0), true);
  }

  onData(data: Buffer, fin: boolean): void {
    if (this.#remoteFin) return;
    if (data.length) {
      this.#credit += data.length;
      this.push(data);
    }
    if (fin) {
      this.#remoteFin = true;
      this.push(null);
      this.#maybeDone();
    }
  }

  onWindowUpdate(delta: number): void {
    this.#sendWindow += delta;
    for (const w of this.#windowWaiters.splice(0)) w();
  }

  onReset(status: number): void {
    this.#reset = true;
    this.#terminate(new SpdyStreamResetError(status));
  }

  /** The session ended: end the readable side, fail pending writes. */
  onSessionClosed(): void {
    this.#terminate(new SpdyStreamResetError(RstStatus.CANCEL));
  }

  /**
   * Ends the stream from the peer's side. Data already received stays readable: the stream is
   * destroyed only once its reader consumed it (destroying at once would drop buffered data — a Go
   * server typically writes its last output, then resets every stream as it closes).
   */
  #terminate(err: Error): void {
    this.#rejectReply(err);
    for (const w of this.#windowWaiters.splice(0)) w();
    if (!this.#remoteFin) {
      this.#remoteFin = true;
      this.push(null);
    }
    if (this.readableEnded) {
      this.destroy();
      return;
    }
    this.once('end', () => this.destroy());
    // Nothing left to read: let 'end' happen even if nobody is reading.
    if (this.readableLength === 0) this.resume();
  }

  #maybeDone(): void {
    if (this.#localFin && this.#remoteFin) this.#session.forget(this.id);
  }
}

interface SessionEvents {
  stream: [SpdyStream];
  close: [];
  goaway: [number];
}

/** A SPDY/3.1 session. Emits 'stream' for streams the peer opens, 'close' once the socket ended. */
export class SpdySession extends EventEmitter<SessionEvents> {
  readonly enforceSendWindow: boolean;
  /** The peer sent SETTINGS or WINDOW_UPDATE: it does flow control, so we credit what we read. */
  peerFlowControl = false;
  readonly #socket: Duplex;
  readonly #log: Logger;
  readonly #parser = new FrameParser();
  readonly #compressor = new HeaderCompressor();
  readonly #decompressor = new HeaderDecompressor();
  readonly #streams = new Map<number, SpdyStream>();
  readonly #client: boolean;
  #nextId: number;
  #lastPeerId = 0;
  #initialWindow = DEFAULT_WINDOW;
  #out: Promise<void> = Promise.resolve();
  #in: Promise<void> = Promise.resolve();
  #closed = false;
  #pingId: number;
  #pings = new Map<number, () => void>();

  constructor(socket: Duplex, opts: SpdySessionOptions) {
    super();
    this.#socket = socket;
    this.#client = opts.client;
    this.#nextId = opts.client ? 1 : 2;
    this.#pingId = opts.client ? 1 : 2;
    this.enforceSendWindow = opts.enforceSendWindow ?? false;
    this.#log = opts.logger ?? silentLogger;
    socket.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    if (this.enforceSendWindow) {
      void this.send(() => ({
        type: 'settings',
        clear: false,
        entries: [{ flags: 0, id: SETTINGS_INITIAL_WINDOW_SIZE, value: DEFAULT_WINDOW }],
      })).catch(() => undefined);
    }
    socket.on('end', () => this.#shutdown());
    socket.on('close', () => this.#shutdown());
    socket.on('error', (err) => {
      this.#log.debug({ err }, 'spdy socket error');
      this.#shutdown();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens a stream (SYN_STREAM). Await `stream.replied` before relying on it. */
  createStream(headers: SpdyHeaders, opts: { fin?: boolean } = {}): SpdyStream {
    if (this.#closed) throw new Error('SPDY session closed');
    const id = this.#nextId;
    this.#nextId += 2;
    const stream = new SpdyStream(this, id, headers, true, this.#initialWindow);
    this.#streams.set(id, stream);
    void this.send(async (c) => ({
      type: 'syn_stream',
      streamId: id,
      associatedId: 0,
      priority: 0,
      fin: opts.fin ?? false,
      unidirectional: false,
      block: await c.compress(headers),
    })).catch(() => undefined);
    return stream;
  }

  /** Sends a PING and resolves when the peer echoes it. */
  ping(): Promise<void> {
    const id = this.#pingId;
    this.#pingId += 2;
    return new Promise((resolve, reject) => {
      this.#pings.set(id, resolve);
      this.send(() => ({ type: 'ping', id })).catch(reject);
    });
  }

  /** Sends GOAWAY and ends our side of the socket. */
  close(): void {
    if (this.#closed) return;
    void this.send(() => ({ type: 'goaway', lastGoodStreamId: this.#lastPeerId, status: 0 }))
      .then(() => this.#socket.end())
      .catch(() => undefined);
  }

  /** Tears the connection down at once. */
  destroy(): void {
    this.#socket.destroy();
    this.#shutdown();
  }

  /**
   * Queues a frame. Frames go out in call order; `build` runs in that order too, so header blocks
   * are compressed in wire order. Resolves once the socket took the bytes (waits on 'drain').
   */
  send(build: (c: HeaderCompressor) => Frame | Promise<Frame>): Promise<void> {
    const next = this.#out.then(async () => {
      if (this.#closed) throw new Error('SPDY session closed');
      const frame = await build(this.#compressor);
      if (this.#socket.destroyed) throw new Error('SPDY session closed');
      if (!this.#socket.write(encodeFrame(frame))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.#socket.off('drain', done);
            this.#socket.off('close', done);
            resolve();
          };
          this.#socket.on('drain', done);
          this.#socket.on('close', done);
        });
      }
    });
    this.#out = next.catch(() => undefined);
    return next;
  }

  forget(id: number): void {
    this.#streams.delete(id);
  }

  #onBytes(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (err) {
      this.#log.debug({ err }, 'spdy protocol error');
      this.destroy();
      return;
    }
    for (const f of frames) {
      this.#in = this.#in
        .then(() => this.#handle(f))
        .catch((err: unknown) => {
          this.#log.debug({ err }, 'spdy frame handling failed');
          if (err instanceof SpdyProtocolError) this.destroy();
        });
    }
  }

  async #handle(f: Frame): Promise<void> {
    switch (f.type) {
      case 'syn_stream': {
        const headers = await this.#decompressor.decompress(f.block);
        const peerParity = this.#client ? 0 : 1;
        if (f.streamId % 2 !== peerParity || f.streamId <= this.#lastPeerId || this.#closed) {
          void this.send(() => ({
            type: 'rst_stream',
            streamId: f.streamId,
            status: RstStatus.PROTOCOL_ERROR,
          })).catch(() => undefined);
          return;
        }
        this.#lastPeerId = f.streamId;
        const stream = new SpdyStream(this, f.streamId, headers, false, this.#initialWindow);
        this.#streams.set(f.streamId, stream);
        if (f.fin) stream.onData(Buffer.alloc(0), true);
        this.emit('stream', stream);
        return;
      }
      case 'syn_reply': {
        const headers = await this.#decompressor.decompress(f.block);
        this.#streams.get(f.streamId)?.onReply(headers, f.fin);
        return;
      }
      case 'headers': {
        // Decompressed even when unused: the zlib context must see every block.
        await this.#decompressor.decompress(f.block);
        if (f.fin) this.#streams.get(f.streamId)?.onData(Buffer.alloc(0), true);
        return;
      }
      case 'data':
        this.#streams.get(f.streamId)?.onData(f.data, f.fin);
        return;
      case 'rst_stream':
        this.#streams.get(f.streamId)?.onReset(f.status);
        return;
      case 'settings':
        this.peerFlowControl = true;
        for (const e of f.entries) {
          if (e.id === SETTINGS_INITIAL_WINDOW_SIZE) {
            const delta = e.value - this.#initialWindow;
            this.#initialWindow = e.value;
            for (const s of this.#streams.values()) s.onWindowUpdate(delta);
          }
        }
        return;
      case 'window_update':
        this.peerFlowControl = true;
        this.#streams.get(f.streamId)?.onWindowUpdate(f.delta);
        return;
      case 'ping': {
        const ours = f.id % 2 === (this.#client ? 1 : 0);
        if (ours) {
          this.#pings.get(f.id)?.();
          this.#pings.delete(f.id);
        } else {
          void this.send(() => ({ type: 'ping', id: f.id })).catch(() => undefined);
        }
        return;
      }
      case 'goaway':
        this.emit('goaway', f.lastGoodStreamId);
        return;
      case 'unknown':
        return;
    }
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Let frames already parsed be handled first, so data before the close is delivered.
    void this.#in.then(() => {
      for (const s of [...this.#streams.values()]) s.onSessionClosed();
      this.#streams.clear();
      this.#compressor.close();
      this.#decompressor.close();
      this.emit('close');
    });
  }
}

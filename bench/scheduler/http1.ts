/**
 * The bench's HTTP/1.1 client: keep-alive TLS connections, one request in flight on each, and a
 * response parser that reads only what the bench needs (status, Content-Length or chunked framing,
 * Connection: close). The load generator shares the machine's two cores with the server it
 * measures, so it should take as little of them as it can. A request costs this client about half
 * the CPU that undici's Pool takes (~70 against ~150 µs in a microbenchmark on this machine, 1.5 KB
 * bodies, node's HTTPS server); undici in turn took about half of node's https client. The server
 * sees ordinary HTTP/1.1 requests on ordinary keep-alive connections.
 *
 * Not a general client: no redirects, no compression, no informational (1xx) answers, no request
 * bodies other than a Buffer; a response the parser does not understand fails the request and
 * closes the connection.
 */

import { StringDecoder } from 'node:string_decoder';
import { connect, type TLSSocket } from 'node:tls';

/** The TLS identity the client presents and the CA it trusts. */
export interface TlsIdentity {
  ca: string;
  cert: string;
  key: string;
}

/** A complete response. */
export interface Http1Response {
  status: number;
  body: Buffer;
}

/** Thrown (as the request's rejection) when a response cannot be parsed or the connection fails. */
export class Http1Error extends Error {
  override name = 'Http1Error';
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * An incremental parser of one response at a time: `push` bytes as they arrive; `onHead` gets the
 * status once the head is complete, `onBody` each piece of the body (chunk framing removed), `onEnd`
 * the end of the response. After onEnd the parser is ready for the next response; bytes after the
 * end are parsed as its start.
 */
export class ResponseParser {
  onHead: (status: number, keepAlive: boolean) => void = () => {};
  onBody: (piece: Buffer) => void = () => {};
  onEnd: () => void = () => {};

  #buf: Buffer | null = null;
  /** 'head', then 'length' (Content-Length bytes left) or 'size'/'data'/'crlf'/'trailer' (chunked). */
  #state: 'head' | 'length' | 'size' | 'data' | 'crlf' | 'trailer' = 'head';
  #left = 0;

  /** Parses `b`; throws Http1Error on a response it does not understand. */
  push(b: Buffer): void {
    let buf = this.#buf ? Buffer.concat([this.#buf, b]) : b;
    this.#buf = null;
    let at = 0;
    while (at < buf.length || this.#state === 'length') {
      if (this.#state === 'head') {
        const end = buf.indexOf(HEAD_END, at);
        if (end < 0) break;
        this.#head(buf.toString('latin1', at, end));
        at = end + 4;
      } else if (this.#state === 'length') {
        const n = Math.min(this.#left, buf.length - at);
        if (n > 0) this.onBody(buf.subarray(at, at + n));
        at += n;
        this.#left -= n;
        if (this.#left > 0) break;
        this.#end();
      } else if (this.#state === 'size') {
        const eol = buf.indexOf(CRLF, at);
        if (eol < 0) break;
        const size = Number.parseInt(buf.toString('latin1', at, eol).split(';', 1)[0]!, 16);
        if (!Number.isFinite(size) || size < 0) throw new Http1Error('bad chunk size');
        at = eol + 2;
        this.#left = size;
        this.#state = size === 0 ? 'trailer' : 'data';
      } else if (this.#state === 'data') {
        const n = Math.min(this.#left, buf.length - at);
        this.onBody(buf.subarray(at, at + n));
        at += n;
        this.#left -= n;
        if (this.#left > 0) break;
        this.#state = 'crlf';
      } else if (this.#state === 'crlf') {
        if (buf.length - at < 2) break;
        if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw new Http1Error('chunk not followed by CRLF');
        at += 2;
        this.#state = 'size';
      } else {
        // The trailer section: header lines until an empty line.
        const eol = buf.indexOf(CRLF, at);
        if (eol < 0) break;
        const empty = eol === at;
        at = eol + 2;
        if (empty) this.#end();
      }
    }
    if (at < buf.length) {
      buf = buf.subarray(at);
      // Keep a copy of a small remainder, not a view that would hold the whole read buffer.
      this.#buf = buf.length < 4096 ? Buffer.from(buf) : buf;
    }
  }

  #head(head: string): void {
    if (!head.startsWith('HTTP/1.')) throw new Http1Error(`not an HTTP/1 response: ${head.slice(0, 40)}`);
    const status = Number(head.slice(9, 12));
    if (!(status >= 200 && status <= 599))
      throw new Http1Error(`unexpected status line: ${head.slice(0, 40)}`);
    let length = -1;
    let chunked = false;
    let keepAlive = head.startsWith('HTTP/1.1');
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((v) => v.trim() === 'chunked');
      else if (name === 'connection') keepAlive = !value.split(',').some((v) => v.trim() === 'close');
    }
    this.onHead(status, keepAlive);
    if (chunked) this.#state = 'size';
    else if (length >= 0 && Number.isSafeInteger(length)) {
      this.#state = 'length';
      this.#left = length;
    } else if (status === 204 || status === 304) {
      this.#state = 'length';
      this.#left = 0;
    } else throw new Http1Error('a response without Content-Length or chunked framing');
  }

  #end(): void {
    this.#state = 'head';
    this.#left = 0;
    this.onEnd();
  }
}

/** One keep-alive connection with at most one request in flight. */
class Connection {
  readonly #socket: TLSSocket;
  readonly #parser = new ResponseParser();
  #pending: { resolve: (r: Http1Response) => void; reject: (e: Error) => void } | null = null;
  #status = 0;
  #keepAlive = true;
  #body: Buffer[] = [];
  /** False once the connection failed, closed, or the server said it would close it. */
  usable = true;

  constructor(host: string, port: number, tls: TlsIdentity) {
    this.#socket = connect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key });
    this.#socket.setNoDelay(true);
    this.#parser.onHead = (status, keepAlive) => {
      this.#status = status;
      this.#keepAlive = keepAlive;
    };
    this.#parser.onBody = (piece) => this.#body.push(piece);
    this.#parser.onEnd = () => {
      const p = this.#pending;
      this.#pending = null;
      const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body);
      this.#body = [];
      if (!this.#keepAlive) this.#fail(new Http1Error('the server closed the connection'));
      p?.resolve({ status: this.#status, body });
    };
    this.#socket.on('data', (d: Buffer) => {
      try {
        this.#parser.push(d);
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(new Http1Error('connection closed')));
  }

  /**
   * Sends one request (head and body in one write) and resolves with its response; after `timeoutMs`
   * without one, the request fails and the connection is closed.
   */
  send(request: Buffer, timeoutMs: number): Promise<Http1Response> {
    if (this.#pending) throw new Error('a request is already in flight on this connection');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#fail(new Http1Error(`no response in ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.#pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#socket.write(request);
    });
  }

  #fail(err: Error): void {
    this.usable = false;
    const p = this.#pending;
    this.#pending = null;
    p?.reject(err);
    this.#socket.destroy();
  }

  destroy(): void {
    this.#fail(new Http1Error('client closed'));
  }
}

/** The request's bytes: request line, Host, the given headers, Content-Length, body. */
export function requestBytes(
  method: string,
  path: string,
  host: string,
  headers: Readonly<Record<string, string>>,
  body?: Buffer,
): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    head += `content-length: ${body?.length ?? 0}\r\n`;
  }
  head += '\r\n';
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/**
 * Up to `size` keep-alive connections to one origin, one request in flight on each; requests beyond
 * that wait in order for a connection to come free. A connection that fails is replaced on next use.
 */
export class Http1Pool {
  readonly #host: string;
  readonly #port: number;
  readonly #tls: TlsIdentity;
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #idle: Connection[] = [];
  readonly #waiters: ((c: Connection) => void)[] = [];
  #open = 0;
  #closed = false;
  readonly #all = new Set<Connection>();

  /** `size` connections at most; a request without a response after `timeoutMs` fails. */
  constructor(origin: URL, tls: TlsIdentity, size: number, timeoutMs: number) {
    this.#host = origin.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(origin.port || 443);
    this.#tls = tls;
    this.#size = size;
    this.#timeoutMs = timeoutMs;
  }

  /** Sends a request and resolves with its complete response; rejects with Http1Error on a failure. */
  async request(
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
    body?: Buffer,
  ): Promise<Http1Response> {
    if (this.#closed) throw new Http1Error('pool closed');
    const conn = await this.#acquire();
    try {
      return await conn.send(
        requestBytes(method, path, `${this.#host}:${this.#port}`, headers, body),
        this.#timeoutMs,
      );
    } finally {
      this.#release(conn);
    }
  }

  #acquire(): Promise<Connection> {
    // An idle connection the server has closed since (keep-alive timeout) is dropped, not used.
    for (let idle = this.#idle.pop(); idle; idle = this.#idle.pop()) {
      if (idle.usable) return Promise.resolve(idle);
      this.#all.delete(idle);
      this.#open--;
    }
    if (this.#open < this.#size) {
      this.#open++;
      const c = new Connection(this.#host, this.#port, this.#tls);
      this.#all.add(c);
      return Promise.resolve(c);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(conn: Connection): void {
    let c = conn;
    if (!c.usable) {
      this.#all.delete(c);
      if (this.#closed) {
        this.#open--;
        return;
      }
      c = new Connection(this.#host, this.#port, this.#tls);
      this.#all.add(c);
    }
    const next = this.#waiters.shift();
    if (next) next(c);
    else this.#idle.push(c);
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    this.#closed = true;
    for (const c of this.#all) c.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }
}

/**
 * A streaming GET on a connection of its own: each line of the body (chunk framing removed, UTF-8
 * decoded) goes to `onLine`. Resolves once the response head arrived with status 200 (rejects
 * otherwise, with the start of the body). `close` ends the stream.
 */
export function watchLines(
  origin: URL,
  tls: TlsIdentity,
  path: string,
  headers: Readonly<Record<string, string>>,
  onLine: (line: string) => void,
): Promise<{ close: () => void }> {
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const port = Number(origin.port || 443);
  const socket = connect({ host, port, ca: tls.ca, cert: tls.cert, key: tls.key });
  const parser = new ResponseParser();
  const text = new StringDecoder('utf8');
  const close = () => socket.destroy();
  return new Promise((resolve, reject) => {
    let status = 0;
    let started = false;
    let errorBody = '';
    let buf = '';
    const fail = (err: Error) => {
      socket.destroy();
      if (!started) reject(err);
    };
    parser.onHead = (s) => {
      status = s;
      if (s === 200) {
        started = true;
        resolve({ close });
      }
    };
    parser.onBody = (piece) => {
      if (status !== 200) {
        errorBody += piece.toString('utf8');
        return;
      }
      buf += text.write(piece);
      let nl = buf.indexOf('\n');
      if (nl < 0) return;
      let from = 0;
      while (nl >= 0) {
        if (nl > from) onLine(buf.slice(from, nl));
        from = nl + 1;
        nl = buf.indexOf('\n', from);
      }
      buf = buf.slice(from);
    };
    parser.onEnd = () => {
      if (status !== 200) fail(new Http1Error(`watch ${path}: HTTP ${status}: ${errorBody.slice(0, 300)}`));
      else socket.destroy();
    };
    socket.on('data', (d: Buffer) => {
      try {
        parser.push(d);
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.on('error', fail);
    socket.on('close', () => fail(new Http1Error(`watch ${path}: connection closed`)));
    socket.write(requestBytes('GET', path, `${host}:${port}`, headers));
  });
}

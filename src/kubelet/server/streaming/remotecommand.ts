/**
 * exec and attach for websocket clients: kubectl (1.30+) speaks remotecommand `v5.channel.k8s.io`
 * over a websocket, while containerd's streaming server speaks remotecommand `v4.channel.k8s.io`
 * over SPDY/3.1. This bridges the two, message by message.
 *
 * Websocket side (k8s.io/apimachinery wsstream): binary messages whose first byte is the channel —
 * 0 stdin, 1 stdout, 2 stderr, 3 error/status (a metav1.Status JSON), 4 resize (TerminalSize JSON);
 * in v5, `[255, n]` closes channel n (stdin EOF). On open, an empty message on the lowest writable
 * channel tells the client the session is up; at the end the status goes on channel 3 and the
 * websocket closes with 1000.
 *
 * SPDY side (client-go's v4 protocol): one stream per channel, created error → stdin → stdout →
 * stderr → resize, each with header `streamType`; each waits for the server's reply. stdin EOF is a
 * FIN on the stdin stream. The server writes the final metav1.Status (Success or Failure with reason
 * NonZeroExitCode and an ExitCode cause) on the error stream, then closes the connection.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../../../util/log.ts';
import type { SpdySession, SpdyStream } from '../spdy/session.ts';

export const WS_V5 = 'v5.channel.k8s.io';
export const WS_V4 = 'v4.channel.k8s.io';
export const SPDY_V4 = 'v4.channel.k8s.io';

export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4, CLOSE: 255 } as const;

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export const SUCCESS_STATUS = JSON.stringify({ metadata: {}, status: 'Success' });

function truthy(v: string | null): boolean {
  return v === 'true' || v === '1' || v === 'True';
}

/** The exec/attach query as kubectl sends it (`command` repeated; booleans as "true"/"1"). */
export function parseStreamQuery(q: URLSearchParams): StreamOptions & { command: string[] } {
  return {
    command: q.getAll('command'),
    stdin: truthy(q.get('stdin') ?? q.get('input')),
    stdout: truthy(q.get('stdout') ?? q.get('output')),
    stderr: truthy(q.get('stderr') ?? q.get('error')),
    tty: truthy(q.get('tty')),
  };
}

/** A message for the websocket: channel byte + payload. */
function frame(channel: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([channel]), data]);
}

function collect(s: SpdyStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

function ended(s: SpdyStream | undefined): Promise<void> {
  if (!s) return Promise.resolve();
  return new Promise((resolve) => {
    if (s.readableEnded || s.destroyed) return resolve();
    s.once('end', () => resolve());
    s.once('close', () => resolve());
  });
}

/**
 * Runs one session: `ws` is the accepted websocket (protocol `wsProtocol`), `spdy` a client session on
 * the runtime's streaming URL. Resolves once both sides are closed.
 */
export async function bridgeRemoteCommand(
  ws: WebSocket,
  spdy: SpdySession,
  opts: StreamOptions,
  wsProtocol: string,
  log: Logger,
): Promise<void> {
  const supportsClose = wsProtocol === WS_V5;
  // Messages can arrive before the SPDY streams exist: queue them until then.
  const early: Buffer[] = [];
  let stdin: SpdyStream | undefined;
  let resize: SpdyStream | undefined;
  let ready = false;
  let wsClosed = false;

  const onMessage = (data: Buffer) => {
    if (data.length === 0) return;
    const ch = data[0];
    const payload = data.subarray(1);
    if (ch === Channel.CLOSE && supportsClose) {
      if (payload[0] === Channel.STDIN) stdin?.end();
      return;
    }
    if (ch === Channel.STDIN && payload.length) stdin?.write(payload);
    else if (ch === Channel.RESIZE && payload.length) resize?.write(payload);
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) return;
    if (ready) onMessage(data);
    else early.push(data);
  });
  const wsDone = new Promise<void>((resolve) =>
    ws.once('close', () => {
      wsClosed = true;
      // The client left: end the runtime session too (this also fails streams still opening).
      spdy.destroy();
      resolve();
    }),
  );
  ws.on('error', (err) => log.debug({ err }, 'exec websocket error'));

  const open = async (type: string): Promise<SpdyStream> => {
    const s = spdy.createStream({ streamtype: [type] });
    s.on('error', (err) => log.debug({ err, type }, 'exec spdy stream error'));
    await s.replied;
    return s;
  };

  try {
    const error = await open('error');
    const errorData = collect(error);
    stdin = opts.stdin ? await open('stdin') : undefined;
    const stdout = opts.stdout ? await open('stdout') : undefined;
    const stderr = opts.stderr ? await open('stderr') : undefined;
    resize = opts.tty ? await open('resize') : undefined;

    // Tell the client the session is up.
    const first = opts.stdout ? Channel.STDOUT : opts.stderr ? Channel.STDERR : Channel.ERROR;
    ws.send(frame(first));
    ready = true;
    for (const m of early.splice(0)) onMessage(m);

    const sent = { stdout: 0, stderr: 0 };
    stdout?.on('data', (c: Buffer) => {
      sent.stdout += c.length;
      ws.send(frame(Channel.STDOUT, c));
    });
    stderr?.on('data', (c: Buffer) => {
      sent.stderr += c.length;
      ws.send(frame(Channel.STDERR, c));
    });

    const finished = Promise.all([errorData, ended(stdout), ended(stderr)]);
    const winner = await Promise.race([
      finished.then(() => 'done' as const),
      wsDone.then(() => 'ws' as const),
    ]);
    if (winner === 'done' && !wsClosed) {
      const status = (await errorData).toString().trim() || SUCCESS_STATUS;
      log.debug({ ...sent, status }, 'remote command finished');
      ws.send(frame(Channel.ERROR, Buffer.from(status)));
      ws.close(1000);
    }
  } catch (err) {
    log.debug({ err }, 'exec bridge failed');
    if (!wsClosed) {
      const status = JSON.stringify({
        metadata: {},
        status: 'Failure',
        message: `error streaming to the container runtime: ${(err as Error).message}`,
        reason: 'InternalError',
        code: 500,
      });
      ws.send(frame(Channel.ERROR, Buffer.from(status)));
      ws.close(1000);
    }
  } finally {
    spdy.destroy();
    if (!wsClosed) {
      // Give the close handshake a moment, then make sure the socket goes.
      const t = setTimeout(() => ws.terminate(), 5_000);
      await wsDone;
      clearTimeout(t);
    }
  }
}

/**
 * GET /containerLogs/{ns}/{pod}/{container}: the kubelet's log endpoint. Options as kubectl sends
 * them (follow, previous, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes); errors with
 * the kubelet's messages (`container "x" in pod "y" is waiting to start: ContainerCreating`,
 * `previous terminated container "x" in pod "y" not found`). The current instance's log is the CRI
 * status' logPath (`<logDirectory>/<container>/<restartCount>.log`); the previous instance's is the
 * same name with restartCount - 1. As the kubelet does, only the live file is read (not rotated ones).
 */
import { access } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Clock } from '../../../util/clock.ts';
import type { RunningPodInfo } from '../../contracts.ts';
import type { ContainerStatus } from '../../cri/types.ts';
import { KubeletHttpError } from '../errors.ts';
import { readCriLog } from './reader.ts';

export interface LogDeps {
  /** The container's CRI status, or undefined when the runtime does not know it. */
  status(id: string): Promise<ContainerStatus | undefined>;
  clock: Clock;
  /** Aborted when the server stops: ends follows. */
  signal: AbortSignal;
  pollMs?: number;
}

function bool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1' || v === 'True';
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

export async function serveContainerLogs(
  req: IncomingMessage,
  res: ServerResponse,
  pod: RunningPodInfo,
  container: string,
  q: URLSearchParams,
  deps: LogDeps,
): Promise<void> {
  const podName = pod.name;
  const waiting = new KubeletHttpError(
    400,
    `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`,
  );
  const id = pod.containers.get(container);
  if (!id) throw waiting;
  const status = await deps.status(id);
  if (!status || status.state === 'CONTAINER_CREATED') throw waiting;
  const current = status.logPath.startsWith('/') ? status.logPath : join(pod.logDirectory, status.logPath);
  const previous = bool(q, 'previous');
  let path = current;
  if (previous) {
    const m = /^(.*\/)(\d+)\.log$/.exec(current);
    const prev = m && Number(m[2]) > 0 ? `${m[1]}${Number(m[2]) - 1}.log` : undefined;
    if (!prev || !(await exists(prev))) {
      throw new KubeletHttpError(
        400,
        `previous terminated container "${container}" in pod "${podName}" not found`,
      );
    }
    path = prev;
  }
  const num = (name: string): number | undefined => {
    const v = q.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new KubeletHttpError(400, `invalid ${name} "${v}"`);
    return n;
  };
  let sinceTime: number | undefined;
  const sinceSeconds = num('sinceSeconds');
  if (sinceSeconds !== undefined) sinceTime = deps.clock.now() - sinceSeconds * 1000;
  const st = q.get('sinceTime');
  if (st) {
    sinceTime = Date.parse(st);
    if (Number.isNaN(sinceTime)) throw new KubeletHttpError(400, `invalid sinceTime "${st}"`);
  }
  const follow = bool(q, 'follow') && !previous;
  const ac = new AbortController();
  const abort = () => ac.abort();
  req.on('close', abort);
  res.on('close', abort);
  deps.signal.addEventListener('abort', abort, { once: true });
  try {
    if (!(await exists(path))) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    await readCriLog(
      path,
      {
        follow,
        tailLines: num('tailLines'),
        sinceTime,
        timestamps: bool(q, 'timestamps'),
        limitBytes: num('limitBytes'),
      },
      {
        write: (c) => res.write(c),
        drain: () =>
          new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          }),
      },
      {
        isRunning: async () => (await deps.status(id))?.state === 'CONTAINER_RUNNING',
        signal: ac.signal,
        pollMs: deps.pollMs,
      },
    );
    res.end();
  } finally {
    deps.signal.removeEventListener('abort', abort);
  }
}

/**
 * The termination message of an exited container, as the kubelet reads it
 * (kuberuntime_container.go getTerminationMessage): the file the container wrote at its
 * terminationMessagePath (found through its mounts; at most 4096 bytes), or — with policy
 * FallbackToLogsOnError, a non-zero exit and an empty file — the last 80 lines (at most 2048 bytes)
 * of its log.
 */
import { open, readFile } from 'node:fs/promises';
import type { ContainerStatus } from '../cri/types.ts';
import {
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
} from './container-config.ts';

export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LOG_BYTES = 2048;
export const MAX_LOG_LINES = 80;

async function readHead(path: string, max: number): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buf, 0, max, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The content of CRI log lines ("<time> <stream> <F|P> <content>"), joined as written. */
export function criLogContent(text: string): string {
  let out = '';
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^\S+ (?:stdout|stderr) ([FP]) ?(.*)$/.exec(line);
    if (!m) continue;
    out += m[2]! + (m[1] === 'F' ? '\n' : '');
  }
  return out;
}

async function tailLog(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  const lines = criLogContent(text).split('\n');
  if (lines.at(-1) === '') lines.pop();
  let out = lines.slice(-MAX_LOG_LINES).join('\n');
  if (lines.length) out += '\n';
  const buf = Buffer.from(out);
  return buf.length > MAX_LOG_BYTES ? buf.subarray(buf.length - MAX_LOG_BYTES).toString('utf8') : out;
}

/**
 * The message of an exited container (convertToKubeContainerStatus): the runtime's message, then
 * ": " and the termination message when there is one.
 */
export async function terminationMessage(s: ContainerStatus): Promise<string> {
  if (s.state !== 'CONTAINER_EXITED') return s.message;
  const path = s.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH];
  const fallback =
    s.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' &&
    s.exitCode !== 0 &&
    s.reason !== 'ContainerCannotRun';
  let msg = '';
  let checkLogs = fallback;
  const mount = path ? s.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) {
    try {
      msg = await readHead(mount.hostPath, MAX_MESSAGE_BYTES);
      checkLogs = fallback && msg.length === 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        msg = `Error on reading termination log ${mount.hostPath}: ${(err as Error).message}`;
        checkLogs = false;
      }
    }
  }
  if (checkLogs && s.logPath) {
    msg = await tailLog(s.logPath).catch(
      (err) => `Error on reading termination message from logs: ${(err as Error).message}`,
    );
  }
  if (!msg) return s.message;
  return s.message ? `${s.message}: ${msg}` : msg;
}

/**
 * Lifecycle hooks (pkg/kubelet/lifecycle/handlers.go): postStart right after a container starts,
 * preStop before it is stopped. exec runs through CRI ExecSync, httpGet GETs the pod IP (or `host`),
 * sleep waits. A hook fails on a non-zero exit or an HTTP error; the error text is the kubelet's.
 */

import https from 'node:https';
import type { Container, LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import { type Clock, sleep } from '../../util/clock.ts';
import { http } from '../../util/node-http.ts';
import type { RuntimeService } from '../cri/types.ts';
import { httpUrl } from '../prober/probe.ts';
import { formatPod } from './format.ts';

export class HookError extends Error {
  override name = 'HookError';
}

export interface HookTarget {
  pod: Pod;
  container: Container;
  containerId: string;
  podIP: string;
}

function goList(list: string[]): string {
  return `[${list.join(' ')}]`;
}

function httpGet(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<number> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      { method: 'GET', headers, rejectUnauthorized: false, agent: false, signal },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs `handler` for the target; `timeoutSeconds` bounds it (0: none). Rejects with a HookError
 * whose message is what the kubelet reports (the FailedPostStartHook / FailedPreStopHook event).
 */
export async function runHook(
  cri: RuntimeService,
  clock: Clock,
  handler: LifecycleHandler,
  t: HookTarget,
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<void> {
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    let output = '';
    let error: string | undefined;
    try {
      const r = await cri.execSync(t.containerId, cmd, timeoutSeconds, { signal });
      output = Buffer.concat([r.stdout, r.stderr]).toString('utf8');
      if (r.exitCode !== 0)
        error = `command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString('utf8')}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    if (error !== undefined) {
      throw new HookError(
        `Exec lifecycle hook (${goList(cmd)}) for Container "${t.container.name}" in Pod "${formatPod(t.pod)}" failed - error: ${error}, message: ${JSON.stringify(output)}`,
      );
    }
    return;
  }
  if (handler.httpGet) {
    const path = handler.httpGet.path ?? '';
    try {
      const url = httpUrl(handler.httpGet, {
        containerId: t.containerId,
        container: t.container,
        podIP: t.podIP,
      });
      const headers: Record<string, string> = {};
      for (const h of handler.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
      const ac = new AbortController();
      const onAbort = () => ac.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const cancel =
        timeoutSeconds > 0 ? clock.setTimeout(() => ac.abort(), timeoutSeconds * 1000) : () => {};
      try {
        const code = await httpGet(url, headers, ac.signal);
        if (code < 200 || code >= 400) throw new Error(`HTTP lifecycle hook returned status code ${code}`);
      } finally {
        cancel();
        signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      throw new HookError(
        `HTTP lifecycle hook (${path}) for Container "${t.container.name}" in Pod "${formatPod(t.pod)}" failed - error: ${(err as Error).message}`,
      );
    }
    return;
  }
  const sleepAction = (handler as { sleep?: { seconds: number } }).sleep;
  if (sleepAction) {
    const ms = sleepAction.seconds * 1000;
    await sleep(clock, timeoutSeconds > 0 ? Math.min(ms, timeoutSeconds * 1000) : ms, signal).catch(() => {});
    return;
  }
  throw new HookError(
    `Cannot run handler: unknown handler type for Container "${t.container.name}" in Pod "${formatPod(t.pod)}"`,
  );
}

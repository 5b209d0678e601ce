/**
 * One full garbage collection, when the process runs with `--expose-gc` (bin/skiff gives it to
 * `skiff agent`); a no-op otherwise.
 *
 * For an idle process after a burst of start-up work: buffers that died after surviving a few
 * scavenges sit in V8's old generation until it fills, and a process that then allocates little
 * (an idle node agent) may never fill it. The first full collection also starts V8's memory reducer,
 * which keeps collecting while the process stays idle.
 */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Commands from skiff's long-lived processes: {@link defaultRunner} is the process-wide
 * {@link ShellPoolRunner} (fork from small shells, never from this process); {@link spawnRunner}
 * spawns directly.
 */
import type { CommandRunner } from './runner.ts';
import { ShellPoolRunner } from './shell-pool.ts';

export * from './runner.ts';
export { ShellExitedError, ShellPoolRunner, shellQuote } from './shell-pool.ts';

let shared: CommandRunner | undefined;

/** The process-wide runner: a shell pool of 4, started on first use. */
export function defaultRunner(): CommandRunner {
  shared ??= new ShellPoolRunner();
  return shared;
}

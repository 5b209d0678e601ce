/**
 * The result of running a plugin (framework.Status). `undefined` stands for Success everywhere a
 * plugin returns a status, as a nil *Status does upstream.
 */

/** Status codes, with upstream's numbering. */
export const Code = {
  /** The plugin ran correctly and found the pod schedulable (for Filter: on this node). */
  Success: 0,
  /** An internal error: the cycle is aborted and the pod retried with back-off. */
  Error: 1,
  /** The pod does not fit; preemption (PostFilter) may help. */
  Unschedulable: 2,
  /** The pod does not fit and preemption cannot help on this node. */
  UnschedulableAndUnresolvable: 3,
  /** Permit only: the pod waits for allow()/reject() or the timeout. */
  Wait: 4,
  /** PreFilter/PreScore: the plugin's Filter/Score is skipped for this pod. Bind: try the next binder. */
  Skip: 5,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const CODE_NAMES = ['Success', 'Error', 'Unschedulable', 'UnschedulableAndUnresolvable', 'Wait', 'Skip'];

export function codeName(code: Code): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

/** A plugin result: a code, human-readable reasons, and the plugin that produced it. */
export class Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The plugin that produced the status; set by the framework for rejections. */
  plugin: string;
  readonly error: Error | undefined;

  constructor(code: Code, reasons: readonly string[] = [], error?: Error) {
    this.code = code;
    this.reasons = reasons;
    this.plugin = '';
    this.error = error;
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }

  static skip(): Status {
    return new Status(Code.Skip);
  }

  static wait(...reasons: string[]): Status {
    return new Status(Code.Wait, reasons);
  }

  /** An Error status from an exception or a message (framework.AsStatus). */
  static error(err: unknown): Status {
    const e = err instanceof Error ? err : new Error(String(err));
    return new Status(Code.Error, [e.message], e);
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }

  isSkip(): boolean {
    return this.code === Code.Skip;
  }

  /** The reasons joined by ", " (Status.Message). */
  message(): string {
    return this.reasons.join(', ');
  }

  withPlugin(plugin: string): this {
    this.plugin = plugin;
    return this;
  }

  asError(): Error {
    return this.error ?? new Error(this.message());
  }
}

/** A plugin's answer: undefined (or a Success status) means Success. */
export type MaybeStatus = Status | undefined | null;

export function isSuccess(s: MaybeStatus): boolean {
  return !s || s.code === Code.Success;
}

export function codeOf(s: MaybeStatus): Code {
  return s ? s.code : Code.Success;
}

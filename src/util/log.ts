/**
 * Structured logging (pino). Quiet by default: `info` for the few lines a user wants to see,
 * `debug` for everything else. SKIFF_LOG_LEVEL overrides the level (silent, error, warn, info, debug).
 */
import { type Logger, pino } from 'pino';

export type { Logger };

/** The root logger, writing JSON lines to stderr. */
export function createLogger(name: string, level = process.env.SKIFF_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: undefined }, pino.destination(2));
}

/** A logger that drops everything, for tests and libraries used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });

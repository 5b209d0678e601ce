/** Shared fixtures for the printer tests: a fixed clock and timestamps relative to it. */
import type { KubeObject } from '../../object.ts';

/** The `now` every printer test renders at. */
export const NOW = Date.parse('2024-05-01T12:00:00Z');

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before {@link NOW}, second precision as the API serializes it. */
export function ago(ms: number): string {
  return new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An object with the given name, created `age` ms before {@link NOW}, and the other fields. */
export function obj(
  name: string,
  age: number,
  fields: Record<string, unknown> = {},
  meta: KubeObject['metadata'] = {},
): KubeObject {
  return { metadata: { name, creationTimestamp: ago(age), ...meta }, ...fields };
}

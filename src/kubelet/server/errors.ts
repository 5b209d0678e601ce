/**
 * Errors the kubelet server answers with: a status code and a plain-text message, as the real
 * kubelet writes them (the API server turns them into a Status for clients).
 */
import { UpstreamError } from './streaming/upstream.ts';

/** An error the kubelet answers with a status code and a plain-text message, as Kubernetes' does. */
export class KubeletHttpError extends Error {
  override name = 'KubeletHttpError';
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Maps any failure to what the kubelet answers: CRI (gRPC) codes and runtime answers included. */
export function toHttpError(err: unknown): KubeletHttpError {
  if (err instanceof KubeletHttpError) return err;
  if (err instanceof UpstreamError)
    return new KubeletHttpError(err.statusCode, err.body.trim() || err.message);
  const e = err as { code?: number; details?: string; message?: string };
  // CRI errors carry the gRPC code: NOT_FOUND → 404, INVALID_ARGUMENT/FAILED_PRECONDITION → 400.
  if (e.code === 5) return new KubeletHttpError(404, e.details ?? e.message ?? 'not found');
  if (e.code === 3 || e.code === 9) return new KubeletHttpError(400, e.details ?? e.message ?? 'bad request');
  return new KubeletHttpError(500, e.message ?? String(err));
}

/**
 * Reading request bodies: a size limit (3 MiB, as Kubernetes), and decoding JSON or YAML into a
 * JSON value with the 400 messages Kubernetes gives for malformed input.
 */
import type { IncomingMessage } from 'node:http';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ApiError } from '../../api/errors.ts';
import { decodeProtobufObject } from '../protobuf/index.ts';
import { type BodyEncoding, bodyEncoding } from './negotiate.ts';

/** Kubernetes' limit on request bodies (apiserver MaxRequestBodyBytes). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole body, failing with 413 past {@link MAX_BODY_BYTES} without buffering the rest. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw ApiError.tooLarge(`Request entity too large: limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw ApiError.tooLarge(`Request entity too large: limit is ${limit}`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** apiVersion/kind of the URL's resource, for protobuf bodies that leave them out. */
export interface BodyDefaults {
  apiVersion: string;
  kind: string;
}

/** Decodes a JSON, YAML or Kubernetes-protobuf body into a JSON value. */
export function decodeBody(raw: Buffer, encoding: BodyEncoding, defaults?: BodyDefaults): unknown {
  if (raw.length === 0)
    throw ApiError.badRequest('the request body is empty; send the object as JSON or YAML');
  if (encoding === 'json') {
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw ApiError.badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
    }
  }
  if (encoding === 'yaml') {
    const text = raw.toString('utf8');
    try {
      const docs = parseAllDocuments(text);
      if (Array.isArray(docs) && docs.length > 1) {
        throw ApiError.badRequest(
          'the request body holds several YAML documents; send one object per request',
        );
      }
      return parseYaml(text, { maxAliasCount: 100, uniqueKeys: false });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw ApiError.badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
    }
  }
  return decodeProtobufObject(raw, defaults);
}

/** Reads and decodes a body given its Content-Type. */
export async function readObject(req: IncomingMessage, defaults?: BodyDefaults): Promise<unknown> {
  const encoding = bodyEncoding(req.headers['content-type']);
  const raw = await readBody(req);
  return decodeBody(raw, encoding, defaults);
}

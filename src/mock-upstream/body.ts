import { invalidJson, invalidRequest, missingParam } from './errors.js';
import type { Exchange } from './http.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request body, counted into the record and stats as it arrives. Leaving the loop early
 * does not destroy the request, so the server can still drain it and answer an error.
 */
export async function* bodyChunks(ctx: Exchange): AsyncGenerator<Buffer> {
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    ctx.record.bodyBytes += chunk.length;
    ctx.state.stats.bytesIn += chunk.length;
    yield chunk;
  }
}

async function readBody(ctx: Exchange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of bodyChunks(ctx)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export async function drain(ctx: Exchange): Promise<void> {
  for await (const _chunk of bodyChunks(ctx));
}

export async function readJson(ctx: Exchange): Promise<JsonObject> {
  const raw = (await readBody(ctx)).toString();
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw invalidJson();
  }
  if (!isObject(body)) throw invalidJson();
  return body;
}

export function requireString(body: JsonObject, param: string): string {
  const value = body[param];
  if (value === undefined || value === null) {
    throw param === 'model' ? invalidRequest('you must provide a model parameter') : missingParam(param);
  }
  if (typeof value !== 'string') throw invalidRequest(`Invalid type for '${param}': expected a string.`, param);
  return value;
}

/** A positive integer parameter, or `fallback` when absent. */
export function optionalCount(body: JsonObject, param: string, fallback: number, max: number): number {
  const value = body[param] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidRequest(`Invalid '${param}': expected an integer in 1..${max}.`, param, 'invalid_value');
  }
  return value;
}

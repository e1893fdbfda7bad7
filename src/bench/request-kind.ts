import { type CompiledTemplate, compileTemplate, TemplateError } from './template.js';

/** One kind of request as a profile or the command line describes it. */
export interface RequestSpec {
  /** Label in reports; defaults to the endpoint. */
  name?: string;
  /** An alias (chat, completions, responses, embeddings, models) or a path such as `/v1/files`. */
  endpoint: string;
  /** Defaults to the alias's method, or POST when there is a body, else GET. */
  method?: string;
  /** Body template text; defaults to the alias's body. */
  body?: string;
  /** `"stream": true` in the body (chat, completions, responses only). */
  stream?: boolean;
  /** `{{model}}` in the body; defaults to the alias's model. */
  model?: string;
  headers?: Record<string, string>;
  /** Relative share in a mix; default 1. */
  weight?: number;
}

/** A request kind ready to send: everything that does not change per request is computed once. */
export interface RequestKind {
  name: string;
  method: string;
  /** Absolute path on the target, including any base path. */
  path: string;
  /** Flat [name, value, name, value…], the form undici takes without copying into an object. */
  headers: string[];
  body: CompiledTemplate | null;
  stream: boolean;
  weight: number;
}

interface Alias {
  method: string;
  path: string;
  model?: string;
  body?: string;
  streamable: boolean;
}

export const ENDPOINTS: Readonly<Record<string, Alias>> = {
  chat: {
    method: 'POST',
    path: '/v1/chat/completions',
    model: 'gpt-4o-mini',
    body: '{"model":"{{model}}","messages":[{"role":"user","content":"{{random_prompt}}"}]}',
    streamable: true,
  },
  completions: {
    method: 'POST',
    path: '/v1/completions',
    model: 'gpt-3.5-turbo-instruct',
    body: '{"model":"{{model}}","prompt":"{{random_prompt}}","max_tokens":16}',
    streamable: true,
  },
  responses: {
    method: 'POST',
    path: '/v1/responses',
    model: 'gpt-4o-mini',
    body: '{"model":"{{model}}","input":"{{random_prompt}}"}',
    streamable: true,
  },
  embeddings: {
    method: 'POST',
    path: '/v1/embeddings',
    model: 'text-embedding-3-small',
    body: '{"model":"{{model}}","input":"{{random_prompt}}"}',
    streamable: false,
  },
  models: { method: 'GET', path: '/v1/models', streamable: false },
};

export class RequestSpecError extends Error {}

/**
 * Sets `"stream": true` in a JSON object template: replaces an existing `"stream": …` value or adds
 * the member first. Works on the template text, so placeholders elsewhere stay untouched.
 */
export function withStream(template: string): string {
  const existing = /("stream"\s*:\s*)(true|false|null|"[^"]*"|\{\{\s*stream\s*\}\})/;
  if (existing.test(template)) return template.replace(existing, '$1true');
  const open = template.indexOf('{');
  if (open === -1) throw new RequestSpecError('--stream needs a JSON object body');
  const rest = template.slice(open + 1);
  const empty = /^\s*\}/.test(rest);
  return `${template.slice(0, open + 1)}"stream":true${empty ? '' : ','}${rest}`;
}

/** Joins an endpoint path to the target's base path; `/v1` is not doubled when the base already ends in it. */
export function joinPath(basePath: string, path: string, alias: boolean): string {
  let base = basePath.replace(/\/+$/, '');
  if (alias && base.endsWith('/v1')) base = base.slice(0, -3);
  return base + path;
}

export interface KindContext {
  /** Path of the target URL (`/` or e.g. `/openai`). */
  basePath: string;
  /** Sent as `Authorization: Bearer …` unless the headers set authorization themselves. */
  token?: string | undefined;
  /** Added to every request; a spec's own headers win. */
  headers?: Record<string, string>;
}

export function buildKind(spec: RequestSpec, ctx: KindContext): RequestKind {
  const alias = ENDPOINTS[spec.endpoint];
  if (!alias && !spec.endpoint.startsWith('/')) {
    throw new RequestSpecError(
      `unknown endpoint ${JSON.stringify(spec.endpoint)}: use ${Object.keys(ENDPOINTS).join(', ')} or a path starting with /`,
    );
  }
  let text = spec.body ?? alias?.body;
  const stream = spec.stream === true;
  if (stream) {
    if (alias && !alias.streamable) throw new RequestSpecError(`${spec.endpoint} does not stream`);
    if (text === undefined) throw new RequestSpecError('--stream needs a request body');
    text = withStream(text);
  }
  const method = (spec.method ?? alias?.method ?? (text === undefined ? 'GET' : 'POST')).toUpperCase();
  const model = spec.model ?? alias?.model ?? 'gpt-4o-mini';
  let body: CompiledTemplate | null = null;
  if (text !== undefined) {
    try {
      body = compileTemplate(text, { model, stream });
    } catch (err) {
      if (err instanceof TemplateError) throw new RequestSpecError(err.message);
      throw err;
    }
  }

  const merged: Record<string, string> = {};
  if (ctx.token) merged.authorization = `Bearer ${ctx.token}`;
  if (body) merged['content-type'] = 'application/json';
  for (const [k, v] of Object.entries({ ...ctx.headers, ...spec.headers })) merged[k.toLowerCase()] = v;
  const headers: string[] = [];
  for (const [k, v] of Object.entries(merged)) headers.push(k, v);

  if (body && merged['content-type']?.includes('json')) {
    const sample = body.render(0);
    try {
      JSON.parse(sample);
    } catch (err) {
      throw new RequestSpecError(
        `the body template does not render to valid JSON (${(err as Error).message}): ${sample.slice(0, 200)}`,
      );
    }
  }
  const weight = spec.weight ?? 1;
  if (!(weight > 0) || !Number.isFinite(weight)) throw new RequestSpecError('a request weight must be above 0');
  return {
    name: spec.name ?? (stream ? `${spec.endpoint}+stream` : spec.endpoint),
    method,
    path: joinPath(ctx.basePath, alias?.path ?? spec.endpoint, alias !== undefined),
    headers,
    body,
    stream,
    weight,
  };
}

/**
 * A fixed, shuffled order of kind indices whose counts follow the weights, so every target of a
 * comparison sees the same mix in the same order. Deterministic (seeded), length ≥ 100.
 */
export function mixSchedule(weights: readonly number[], length = 1000): Uint16Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = new Uint16Array(length);
  let at = 0;
  let acc = 0;
  for (const [i, w] of weights.entries()) {
    acc += w;
    const end = i === weights.length - 1 ? length : Math.round((acc / total) * length);
    out.fill(i, at, end);
    at = end;
  }
  // Fisher-Yates with a fixed xorshift seed.
  let seed = 0x2545f491;
  for (let i = length - 1; i > 0; i--) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const j = (seed >>> 0) % (i + 1);
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}

import { readFileSync } from 'node:fs';
import type { ProxyInit, ProxyStack } from '../helpers/proxy.js';

/**
 * Arithmetic the limits promise, written out independently of the implementation: the proxy's
 * reservation estimate, the mock upstream's deterministic usage, and the shipped price table.
 */

/** Output tokens the proxy reserves when a request sets no maximum (admission.ts DEFAULT_OUTPUT_ESTIMATE). */
export const DEFAULT_OUTPUT = 256;

/** The proxy's token estimate for a JSON body: ceil(bytes / 4) + (max tokens, or 256). */
export function estimateTokens(body: string, maxTokens?: number): { prompt: number; output: number; total: number } {
  const prompt = Math.ceil(Buffer.byteLength(body) / 4);
  const output = maxTokens ?? DEFAULT_OUTPUT;
  return { prompt, output, total: prompt + output };
}

/** The mock's chat prompt tokens: 3 + per message (4 + ceil(content chars / 4)). */
export const mockChatPrompt = (contents: string[]): number =>
  contents.reduce((sum, c) => sum + 4 + Math.ceil(c.length / 4), 3);

interface Price {
  input: number;
  cached_input?: number;
  output: number;
  reasoning?: number;
}
const table = JSON.parse(readFileSync(new URL('../../pricing/openai.json', import.meta.url), 'utf8')) as {
  models: Record<string, Price>;
};

export function priceOf(model: string): Price {
  const p = table.models[model];
  if (!p) throw new Error(`no price for ${model} in pricing/openai.json`);
  return p;
}

/**
 * Nano-dollars: the table's USD per 1M tokens is micro-dollars per token, × 1000 for nano-dollars;
 * rounded once per request.
 */
export function nanoUsd(model: string, prompt: number, completion: number, cached = 0, reasoning = 0): number {
  const p = priceOf(model);
  return Math.round(
    ((prompt - cached) * p.input +
      cached * (p.cached_input ?? p.input) +
      (completion - reasoning) * p.output +
      reasoning * (p.reasoning ?? p.output)) *
      1000,
  );
}

/**
 * A chat whose actual cost equals its reservation, so a budget admits exactly floor(budget / cost):
 * the content to send (`content`, padded with '€' where needed), its body, and the number of chunks
 * the mock must answer with. The reservation prices ceil(body bytes / 4) prompt tokens plus
 * `maxTokens` of output; the mock counts ceil(content characters / 4) (plus overhead) and one
 * output token per chunk. In nano-dollars nothing rounds them together, so the prompt's difference
 * must be a whole number of output tokens' price: each '€' (3 bytes, 1 character) moves the
 * estimate against the mock's count until it is.
 */
export function exactChat(
  model: string,
  content: string,
  maxTokens: number,
): { content: string; body: string; chunks: number; cost: number } {
  for (let pad = 0; pad < 32; pad++) {
    const padded = content + '€'.repeat(pad);
    const body = chatBody(model, padded, { max_tokens: maxTokens });
    const est = estimateTokens(body, maxTokens);
    const cost = nanoUsd(model, est.prompt, est.output);
    const prompt = mockChatPrompt([padded]);
    for (let chunks = 0; chunks <= 10 * maxTokens; chunks++) {
      if (nanoUsd(model, prompt, chunks) === cost) return { content: padded, body, chunks, cost };
    }
  }
  throw new Error(`no content like "${content}" whose cost can equal its reservation`);
}

/** A chat completions body as text (so its byte length, and hence the estimate, is known). */
export function chatBody(model: string, content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content }], ...extra });
}

export interface Outcome {
  status: number;
  code: string | undefined;
  headers: Headers;
  body: any;
}

/** Sends `n` requests at once and waits for all of them. */
export async function burst(n: number, send: (i: number) => Promise<Response>): Promise<Outcome[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await send(i);
      const text = await res.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {}
      return { status: res.status, code: body?.error?.code, headers: res.headers, body };
    }),
  );
}

/**
 * Opens `n` keep-alive connections to the proxy (fetch's pool keeps them a few seconds), so a
 * burst right after measures the limiter rather than TCP handshakes on a busy machine.
 */
export async function warm(st: ProxyStack, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => fetch(`${st.url}/live`).then((r) => r.arrayBuffer())));
}

/** Runs `fn` and returns its result with the milliseconds it took (wall clock, as the client saw it). */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const out = await fn();
  return [out, Date.now() - t0];
}

/**
 * Checks a burst's outcome against a rate limit's promise: at least `min` admitted (the limit),
 * at most `max` (the limit plus what refilled while the burst lasted; equal to `min` unless the
 * machine was so loaded that the burst outlasted a refill), every other one refused with `code`.
 */
export function expectAdmitted(outcomes: Outcome[], code: string, min: number, max: number): number {
  const t = tally(outcomes);
  const admitted = t['200'] ?? 0;
  if (admitted < min || admitted > max || admitted + (t[`429 ${code}`] ?? 0) !== outcomes.length) {
    throw new Error(`expected ${min}..${max} admitted and the rest refused with ${code}: ${JSON.stringify(t)}`);
  }
  return admitted;
}

/** How many outcomes had each status (and refusal code), e.g. { '200': 37, '429 request_limit_reached': 63 }. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 200 ? '200' : `${o.status} ${o.code ?? ''}`.trim();
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** POST a JSON text through the proxy with a token (and optional extra headers). */
export function postJson(
  st: ProxyStack,
  path: string,
  token: string,
  body: string,
  headers: Record<string, string> = {},
) {
  return st.proxy(path, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** A POST whose body is streamed with chunked transfer encoding (no declared length). */
export function chunkedPost(token: string, body: string, contentType = 'application/json'): ProxyInit {
  return {
    method: 'POST',
    token,
    headers: { 'content-type': contentType },
    body: new Blob([body]).stream(),
    duplex: 'half',
  } as ProxyInit;
}

/** A multipart/form-data body built by hand, so tests control every byte (and field order). */
export function multipart(
  parts: Array<{ name: string; value: string | Buffer; filename?: string; type?: string }>,
  boundary = 'llmp-test-boundary-7d1f',
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`;
    chunks.push(Buffer.from(head), Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Usage records' cost sum (nano-dollars), failing on any unpriced record. */
export function costSum(rows: Array<{ cost_nano_usd: number | null }>): number {
  return rows.reduce((sum, r) => {
    if (r.cost_nano_usd === null) throw new Error('unpriced usage record');
    return sum + r.cost_nano_usd;
  }, 0);
}

/**
 * What the server's limiter holds as spent and reserved for a subject in a budget period, to
 * compare with what the usage records say (a token's project is looked up: a shared backend keys
 * the token under it).
 */
export async function budgetState(
  st: ProxyStack,
  kind: 'token' | 'project',
  id: string,
  period = 'total',
): Promise<{ spentNanoUsd: number; reservedNanoUsd: number } | undefined> {
  const { runtime } = st.s.server;
  const projectId = kind === 'token' ? (await runtime.tokensRepo.findById(id))?.project_id : id;
  return (await runtime.limiter.inspect(kind, id, projectId))?.budgets[period];
}

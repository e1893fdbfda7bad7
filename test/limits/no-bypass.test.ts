import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import {
  burst,
  chatBody,
  chunkedPost,
  estimateTokens,
  mockChatPrompt,
  multipart,
  nanoUsd,
  type Outcome,
  tally,
} from './helpers.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

interface Endpoint {
  name: string;
  /** Path as the upstream sees it (to count what got through). */
  path: string;
  send(token: string): Promise<Response>;
}

const jsonPost = (path: string, body: unknown) => (token: string) =>
  st.proxy(path, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const form = (path: string, parts: Parameters<typeof multipart>[0]) => (token: string) => {
  const m = multipart(parts);
  return st.proxy(path, { method: 'POST', token, headers: { 'content-type': m.contentType }, body: m.body });
};

const ENDPOINTS: Endpoint[] = [
  {
    name: 'chat completions',
    path: '/v1/chat/completions',
    send: jsonPost('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  },
  {
    name: 'legacy completions',
    path: '/v1/completions',
    send: jsonPost('/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'hi' }),
  },
  {
    name: 'embeddings',
    path: '/v1/embeddings',
    send: jsonPost('/v1/embeddings', { model: 'text-embedding-3-small', input: 'hi' }),
  },
  { name: 'responses', path: '/v1/responses', send: jsonPost('/v1/responses', { model: 'gpt-4.1', input: 'hi' }) },
  { name: 'models (GET, no body)', path: '/v1/models', send: (token) => st.proxy('/v1/models', { token }) },
  {
    name: 'files upload (multipart)',
    path: '/v1/files',
    send: form('/v1/files', [
      { name: 'purpose', value: 'batch' },
      { name: 'file', value: '{"a":1}\n', filename: 'in.jsonl', type: 'application/jsonl' },
    ]),
  },
  {
    name: 'audio transcription (multipart)',
    path: '/v1/audio/transcriptions',
    send: form('/v1/audio/transcriptions', [
      { name: 'model', value: 'gpt-4o-transcribe' },
      { name: 'file', value: Buffer.alloc(2000, 7), filename: 'a.mp3', type: 'audio/mpeg' },
    ]),
  },
  {
    name: 'an unknown /v1 path',
    path: '/v1/something/new',
    send: (token) => st.proxy('/v1/something/new', { method: 'DELETE', token }),
  },
  {
    name: 'a chunked JSON body (length not declared, so not inspected)',
    path: '/v1/embeddings',
    send: (token) =>
      st.proxy('/v1/embeddings', chunkedPost(token, JSON.stringify({ model: 'text-embedding-3-small', input: 'c' }))),
  },
];

const upstreamCount = (path: string) => st.mock.requests().filter((r) => r.path === path).length;
const admitted = (out: Outcome[]) => out.filter((o) => o.status !== 429).length;

describe('limits: no endpoint bypasses a limit', () => {
  for (const ep of ENDPOINTS) {
    it(`${ep.name}: requests_per_minute 3 lets exactly 3 of 10 through`, async () => {
      const t = await st.issueToken({ requests_per_minute: 3 });
      const before = upstreamCount(ep.path);
      const out = await burst(10, () => ep.send(t.token));
      expect(admitted(out)).toBe(3);
      expect(out.filter((o) => o.code === 'rate_limit_exceeded')).toHaveLength(7);
      expect(upstreamCount(ep.path) - before).toBe(3);
    });

    it(`${ep.name}: max_requests 3 lets exactly 3 of 10 through`, async () => {
      const t = await st.issueToken({ max_requests: 3 });
      const before = upstreamCount(ep.path);
      const out = await burst(10, () => ep.send(t.token));
      expect(admitted(out)).toBe(3);
      expect(out.filter((o) => o.code === 'request_limit_reached')).toHaveLength(7);
      expect(upstreamCount(ep.path) - before).toBe(3);
    });
  }

  it("a project's max_requests counts every endpoint: exactly 11 of 45 mixed requests", async () => {
    const p = await st.addProject('mixed-endpoints');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { max_requests: 11 });
    const before = st.mock.stats().requests;
    const out = await burst(ENDPOINTS.length * 5, (i) => (ENDPOINTS[i % ENDPOINTS.length] as Endpoint).send(p.token));
    expect(admitted(out)).toBe(11);
    expect(st.mock.stats().requests - before).toBe(11);
    expect(await st.usage(p.id)).toHaveLength(11);
  });

  it('a spent budget stops every endpoint, including those that carry no model or body', async () => {
    // One chat whose actual cost equals the budget exactly: afterwards nothing is left for anything.
    const content = 'spend it all';
    const body = chatBody('gpt-4o-mini', content, { max_tokens: 20 });
    const est = estimateTokens(body, 20);
    const reserved = nanoUsd('gpt-4o-mini', est.prompt, est.output);
    let chunks = 0;
    while (nanoUsd('gpt-4o-mini', mockChatPrompt([content]), chunks) < reserved) chunks++;
    const cost = nanoUsd('gpt-4o-mini', mockChatPrompt([content]), chunks);
    const t = await st.issueToken({ budget_usd: cost / 1e9 });
    const first = await st.proxy('/v1/chat/completions', {
      method: 'POST',
      token: t.token,
      headers: { 'content-type': 'application/json', 'x-mock-chunks': String(chunks) },
      body,
    });
    expect(first.status).toBe(200);
    expect((await st.recordOf(first, t.id)).cost_nano_usd).toBe(cost);

    const before = st.mock.stats().requests;
    for (const ep of ENDPOINTS) {
      const res = await ep.send(t.token);
      expect([ep.name, res.status, ((await res.json()) as any).error?.code]).toEqual([ep.name, 429, 'budget_exceeded']);
    }
    expect(st.mock.stats().requests - before).toBe(0);
  });

  it('a path that only looks like another endpoint is counted like any other', async () => {
    const t = await st.issueToken({ max_requests: 2 });
    const paths = ['/v1/models?limit=1', '/v1//models', '/v1/models/', '/v1/%6Dodels'];
    const out = await burst(paths.length, (i) => st.proxy(paths[i] as string, { token: t.token }));
    expect(admitted(out)).toBe(2);
    expect(tally(out)['429 request_limit_reached']).toBe(2);
  });
});

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';

const MiB = 1024 * 1024;

/** The value of each /metrics sample named `name` with every label given. */
async function samples(st: ProxyStack, name: string, labels: Record<string, string> = {}): Promise<number[]> {
  const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

const held = async (st: ProxyStack) => (await samples(st, 'llm_proxy_request_body_bytes_held'))[0];

/** A chat completion body that is declared and never sent in full, on a connection of its own. */
interface PartialBody {
  /** `let in` once the proxy sent `100 Continue` (it reads the body: a few bytes go, then nothing), or its refusal. */
  outcome: Promise<string>;
  /** Abandons it; resolves once the connection is closed. */
  close(): Promise<void>;
}

function partialBody(st: ProxyStack, token: string, declared: number): PartialBody {
  const url = new URL(st.url);
  // Expect: 100-continue, so the client learns whether the proxy took the body or refused it.
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: '/v1/chat/completions',
    method: 'POST',
    agent: false,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': String(declared),
      expect: '100-continue',
    },
  });
  req.on('error', () => {});
  const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
  const outcome = new Promise<string>((resolve) => {
    req.on('continue', () => {
      req.write('{"model":"');
      resolve('let in');
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        const code = (JSON.parse(text) as { error: { code: string } }).error.code;
        resolve(`${res.statusCode} ${code} retry-after: ${res.headers['retry-after']}`);
      });
    });
  });
  req.flushHeaders();
  return {
    outcome,
    close: () => {
      req.destroy();
      return closed;
    },
  };
}

const count = (xs: string[], x: string) => xs.filter((o) => o === x).length;

describe('proxy: memory for request bodies being read (PROXY_BODY_MEMORY_BYTES)', () => {
  let st: ProxyStack;
  const open: PartialBody[] = [];
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };
  beforeAll(async () => {
    // 4 MiB for every body being read, 2 MiB of it for one token or one project.
    st = await startProxyStack({
      env: { PROXY_BODY_MEMORY_BYTES: String(4 * MiB), PROXY_BODY_MEMORY_SHARE_PERCENT: '50' },
    });
  });
  afterAll(async () => {
    await Promise.all(open.map((p) => p.close()));
    await st.stop();
  });

  it('one token holds at most its share, the proxy at most the whole; others are served; all of it comes back when the clients leave', async () => {
    // The attack: 1 MiB bodies declared and never sent, on five connections at once.
    const hog = Array.from({ length: 5 }, () => partialBody(st, st.token, MiB));
    open.push(...hog);
    const outcomes = await Promise.all(hog.map((p) => p.outcome));
    expect(count(outcomes, 'let in')).toBe(2);
    expect(count(outcomes, '429 concurrency_limit_exceeded retry-after: 1')).toBe(3);
    expect(await held(st)).toBe(2 * MiB);
    // The share is the project's too: another token of it is refused as well.
    const sibling = partialBody(st, (await st.issueToken()).token, MiB);
    open.push(sibling);
    expect(await sibling.outcome).toBe('429 concurrency_limit_exceeded retry-after: 1');

    // Another project is served meanwhile.
    const b = await st.addProject('bystander');
    const answer = await st.clientFor(b.token).chat.completions.create(chat);
    expect(answer.choices[0]?.finish_reason).toBe('stop');

    // A second hog fills what is left of the memory: a third project now gets 503 with retry advice.
    const second = await st.addProject('second-hog');
    const hog2 = [partialBody(st, second.token, MiB), partialBody(st, second.token, MiB)];
    open.push(...hog2);
    expect(await Promise.all(hog2.map((p) => p.outcome))).toEqual(['let in', 'let in']);
    expect(await held(st)).toBe(4 * MiB);
    const refused = await st.proxy('/v1/chat/completions', { token: b.token, ...json(chat) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('x-should-retry')).toBe('true');
    expect(await refused.json()).toEqual({
      error: {
        message: 'The proxy is receiving as many request bodies as its memory allows; retry shortly.',
        type: 'server_error',
        code: 'server_busy',
        param: null,
      },
    });
    // None of it went upstream or was counted.
    expect(st.mock.stats().requests).toBe(1);
    expect(await samples(st, 'llm_proxy_refusals_total', { reason: 'concurrency_limit_exceeded' })).toEqual([4]);
    expect(await samples(st, 'llm_proxy_refusals_total', { reason: 'server_busy' })).toEqual([1]);

    // A project with two keys reads a JSON body whole only to be able to fail over (chat bodies are
    // read for stream usage anyway): with the memory taken, its body streams through instead (and
    // the request is sent once), rather than a 503.
    const pool = await st.addProject('pool');
    const added = await st.s.manage('POST', `/projects/${pool.projectId}/keys`, {
      name: 'second',
      api_key: UPSTREAM_KEY,
      base_url: `${st.mock.url}/v1`,
    });
    expect(added.status).toBe(201);
    const pooled = await st.clientFor(pool.token).embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    expect(pooled.data).toHaveLength(1);

    // The clients leave: every byte charged is given back, and the proxy serves the hog's token again.
    await Promise.all(open.splice(0).map((p) => p.close()));
    await until(async () => (await held(st)) === 0);
    const again = await st.client.chat.completions.create(chat);
    expect(again.choices[0]?.finish_reason).toBe('stop');
    expect(await held(st)).toBe(0);
  });
});

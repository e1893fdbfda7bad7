import { copyFileSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { mockRealtimeUsage } from '../../src/mock-upstream/index.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

const MODEL = 'gpt-4o-realtime-preview';

describe("the openai SDK's OpenAIRealtimeWS through the proxy's TLS listener", () => {
  let ca: TestCa;
  let st: ProxyStack;
  let previous: Dispatcher;
  let agent: Agent;

  beforeAll(async () => {
    ca = testCa();
    const leaf = ca.issue('realtime');
    const dir = mkdtempSync(path.join(ca.dir, 'served-'));
    copyFileSync(leaf.certFile, path.join(dir, 'tls.crt'));
    copyFileSync(leaf.keyFile, path.join(dir, 'tls.key'));
    // The stack's management calls (fetch) trust the test CA too.
    previous = getGlobalDispatcher();
    agent = new Agent({ connect: { ca: ca.cert } });
    setGlobalDispatcher(agent);
    st = await startProxyStack({
      env: { TLS_CERT_FILE: path.join(dir, 'tls.crt'), TLS_KEY_FILE: path.join(dir, 'tls.key') },
    });
  });
  afterAll(async () => {
    await st?.stop();
    setGlobalDispatcher(previous);
    await agent?.close();
    ca?.close();
  });

  it('runs two responses over wss:// and records them exactly', async () => {
    expect(st.url).toMatch(/^https:/);
    const { id, token } = await st.issueToken();
    const client = new OpenAI({ baseURL: `${st.url}/v1`, apiKey: token, maxRetries: 0 });
    // The SDK passes `options` to `ws`: the test CA is trusted there (NODE_EXTRA_CA_CERTS works too).
    const rt = new OpenAIRealtimeWS({ model: MODEL, options: { ca: ca.cert } }, client);
    const done: unknown[] = [];
    const errors: unknown[] = [];
    rt.on('error', (err) => errors.push(err));
    const created = new Promise<void>((resolve) => rt.on('session.created', () => resolve()));
    let second: () => void = () => {};
    const twoDone = new Promise<void>((resolve) => (second = resolve));
    rt.on('response.done', (event) => {
      done.push(event);
      if (done.length === 2) second();
    });
    await created;
    rt.send({ type: 'response.create' });
    rt.send({ type: 'response.create' });
    await twoDone;
    const closed = new Promise<number>((resolve) => rt.socket.on('close', (code) => resolve(code)));
    rt.close({ code: 1000, reason: 'bye' });
    expect(await closed).toBe(1000);
    expect(errors).toEqual([]);

    expect(st.mock.realtimeSessions().at(-1)?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    const rows = await st.waitUsage(id, 3);
    const responses = rows.filter((r) => r.status === 200);
    expect(responses.map((r) => r.total_tokens)).toEqual([1, 2].map((n) => mockRealtimeUsage(n).total_tokens));
    expect(responses.map((r) => r.prompt_tokens)).toEqual([1, 2].map((n) => mockRealtimeUsage(n).input_tokens));
    expect(rows.filter((r) => r.status === 101)).toHaveLength(1);
  });
});

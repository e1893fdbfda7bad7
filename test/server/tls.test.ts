import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync } from 'node:fs';
import http2, { type ClientHttp2Session } from 'node:http2';
import https from 'node:https';
import path from 'node:path';
import OpenAI from 'openai';
import {
  Agent,
  type Dispatcher,
  FormData,
  getGlobalDispatcher,
  setGlobalDispatcher,
  fetch as undiciFetch,
} from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Leaf, type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { h2Connect, h2Post, h2Request, h2SignIn } from '../helpers/http2-client.js';
import { normaliseIds, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { signIn } from '../helpers/session.js';

const STREAM_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Say something deterministic.' }],
});

/** Access-log lines (`proxy request`) of the server, by request id. */
function accessLine(st: ProxyStack, requestId: string): Record<string, unknown> | undefined {
  for (const line of st.s.logs().split('\n')) {
    if (!line.includes(requestId) || !line.includes('"msg":"proxy request"')) continue;
    return JSON.parse(line);
  }
  return undefined;
}

describe('HTTPS with HTTP/2 (ALPN) and HTTP/1.1 on the proxy port', () => {
  let ca: TestCa;
  let leaf: Leaf;
  let dir: string;
  let st: ProxyStack;
  let previous: Dispatcher;
  /** HTTP/1.1 only: fetch, the `openai` client and the helpers go through it. */
  let h1: Agent;
  /** HTTP/2 by ALPN. */
  let h2: Agent;
  let sessions = 0;

  beforeAll(async () => {
    ca = testCa();
    leaf = ca.issue('proxy-one');
    dir = mkdtempSync(path.join(ca.dir, 'served-'));
    copyFileSync(leaf.certFile, path.join(dir, 'tls.crt'));
    copyFileSync(leaf.keyFile, path.join(dir, 'tls.key'));
    h1 = new Agent({ connect: { ca: ca.cert }, allowH2: false });
    h2 = new Agent({ connect: { ca: ca.cert }, allowH2: true });
    previous = getGlobalDispatcher();
    // The stack's own helpers (fetch) trust the test CA, over HTTP/1.1.
    setGlobalDispatcher(h1);
    st = await startProxyStack({
      env: { TLS_CERT_FILE: path.join(dir, 'tls.crt'), TLS_KEY_FILE: path.join(dir, 'tls.key') },
    });
    st.s.server.app.server.on('session', () => sessions++);
  });
  afterAll(async () => {
    await st?.stop();
    setGlobalDispatcher(previous);
    await h1?.close();
    await h2?.close();
    ca?.close();
  });

  it('listens on https:// and logs the certificate it serves', () => {
    expect(st.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const loaded = st.s
      .logs()
      .split('\n')
      .filter((l) => l.includes('"msg":"TLS certificate loaded"'))
      .map((l) => JSON.parse(l));
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({ reason: 'start', subject: 'CN=proxy-one', serial: leaf.serial });
    expect(st.s.logs()).not.toContain('PRIVATE KEY');
  });

  it('streams an SSE completion over HTTP/2 byte for byte as over HTTP/1.1, and records both alike', async () => {
    const session = await h2Connect(st.url, ca.cert);
    let over2: Awaited<ReturnType<typeof h2Request>>;
    try {
      // With its length declared, as HTTP/1.1 sends it (and as fetch does over either).
      const headers = h2Post('/v1/chat/completions', st.token, { 'content-length': Buffer.byteLength(STREAM_BODY) });
      over2 = await h2Request(session, headers, STREAM_BODY);
    } finally {
      session.close();
    }
    const over1 = await new Promise<{ status: number; headers: Record<string, unknown>; text: string }>(
      (resolve, reject) => {
        const req = https.request(
          `${st.url}/v1/chat/completions`,
          {
            method: 'POST',
            ca: ca.cert,
            headers: { authorization: `Bearer ${st.token}`, 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
          },
        );
        req.on('error', reject);
        req.end(STREAM_BODY);
      },
    );
    expect(over2.status).toBe(200);
    expect(over1.status).toBe(200);
    expect(over2.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(over2.headers['content-type']).toBe(over1.headers['content-type']);
    expect(over2.text).toContain('data: [DONE]');
    expect(normaliseIds(over2.text)).toBe(normaliseIds(over1.text));

    // The usage records and the access log say the same of both: status, stream, bytes.
    const id2 = String(over2.headers['x-llm-proxy-request-id']);
    const id1 = String(over1.headers['x-llm-proxy-request-id']);
    const rows = await st.waitUsage(st.tokenId, 2);
    const row2 = rows.find((r) => r.request_id === id2);
    const row1 = rows.find((r) => r.request_id === id1);
    expect(row2).toMatchObject({ status: 200, is_stream: 1, bytes_out: over2.body.length, usage_status: 'reported' });
    expect(row1).toMatchObject({
      status: 200,
      is_stream: 1,
      bytes_out: Buffer.byteLength(over1.text),
      usage_status: 'reported',
    });
    expect(row2?.bytes_in).toBe(row1?.bytes_in);
    expect(row2?.total_tokens).toBe(row1?.total_tokens);
    expect(accessLine(st, id2)).toMatchObject({ status: 200, stream: true, bytes_out: over2.body.length });
  });

  it('serves the official openai client over HTTPS, on HTTP/2 and on HTTP/1.1: JSON, a stream, an upload', async () => {
    for (const dispatcher of [h2, h1]) {
      const client = new OpenAI({
        baseURL: `${st.url}/v1`,
        apiKey: st.token,
        maxRetries: 0,
        // undici's own fetch, which takes its Agent (Node's built-in fetch may bundle another undici).
        fetch: undiciFetch as unknown as typeof fetch,
        fetchOptions: { dispatcher } as never,
      });
      const before = sessions;
      const done = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello' }],
      });
      expect(done.choices[0]?.message.content).toBeTruthy();
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: 'hello' }],
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe(done.choices[0]?.message.content);
      // An upload: a multipart body of undeclared length, streamed through the proxy.
      const content = Buffer.from(`${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/embeddings' })}\n`);
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([content]), 'batch.jsonl');
      const uploaded = await undiciFetch(`${st.url}/v1/files`, {
        method: 'POST',
        headers: { authorization: `Bearer ${st.token}` },
        body: form,
        dispatcher,
      });
      expect(uploaded.status).toBe(200);
      const file = (await uploaded.json()) as { id: string };
      const back = await client.files.content(file.id);
      expect(Buffer.from(await back.arrayBuffer())).toEqual(content);
      // The HTTP/2 agent opened a session on the server; the HTTP/1.1 one did not.
      if (dispatcher === h2) expect(sessions).toBeGreaterThan(before);
      else expect(sessions).toBe(before);
    }
  });

  it('answers /health, /ready, /metrics, /manage and /admin over HTTP/2', async () => {
    const session = await h2Connect(st.url, ca.cert);
    try {
      const get = (p: string, auth = true) =>
        h2Request(session, {
          ':path': p,
          ...(auth ? { authorization: `Bearer ${st.s.managementToken}` } : {}),
        });
      expect((await get('/health', false)).status).toBe(200);
      expect((await get('/ready', false)).status).toBe(200);
      const projects = await get('/manage/projects');
      expect(projects.status).toBe(200);
      expect(JSON.parse(projects.text).data[0].id).toBe(st.projectId);
      expect((await get('/manage/openapi.json', false)).status).toBe(200);
      // Built UI or not, /admin/ is answered by the server (not a protocol error).
      expect([200, 404]).toContain((await get('/admin/', false)).status);
      const metrics = await get('/metrics');
      expect(metrics.status).toBe(200);
      const expiry = Math.floor(new X509Certificate(leaf.cert).validToDate.getTime() / 1000);
      expect(metrics.text).toContain(`llm_proxy_tls_certificate_expiry_seconds{serial="${leaf.serial}"} ${expiry}`);
      // A management change over HTTP/2: a body without a declared length arrives whole.
      const created = await h2Request(
        session,
        {
          ':method': 'POST',
          ':path': '/manage/tokens',
          authorization: `Bearer ${st.s.managementToken}`,
          'content-type': 'application/json',
        },
        JSON.stringify({ project_id: st.projectId, name: 'over-h2' }),
      );
      expect(created.status).toBe(201);
    } finally {
      session.close();
    }
  });

  it('forwards an HTTP/2 request body of undeclared length whole, and refuses CONNECT with 405', async () => {
    const session = await h2Connect(st.url, ca.cert);
    try {
      // No content-length: the body is the stream's DATA frames (HTTP/2 has no chunked encoding).
      const body = JSON.stringify({ model: 'text-embedding-3-small', input: 'x'.repeat(200_000) });
      const stream = session.request(h2Post('/v1/embeddings', st.token));
      const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
        let status = 0;
        let text = '';
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (text += c));
        stream.on('end', () => resolve({ status, text }));
        stream.on('error', reject);
      });
      stream.write(body.slice(0, 1000));
      stream.end(body.slice(1000));
      const res = await reply;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).data[0].embedding.length).toBeGreaterThan(0);
      const rows = await st.usage();
      const row = rows.at(-1);
      expect(row?.bytes_in).toBe(Buffer.byteLength(body));

      const connect = await h2Request(session, { ':method': 'CONNECT', ':authority': 'example.com:443' });
      expect(connect.status).toBe(405);
      expect(JSON.parse(connect.text).error.code).toBe('method_not_allowed');
    } finally {
      session.close();
    }
  });

  it('cancels the upstream stream when an HTTP/2 client resets its stream, and records client_aborted', async () => {
    const session = await h2Connect(st.url, ca.cert);
    try {
      st.mock.reset();
      const stream = session.request(
        h2Post('/v1/chat/completions', st.token, { 'x-mock-chunks': '200', 'x-mock-chunk-delay-ms': '50' }),
      );
      stream.on('error', () => {});
      stream.end(STREAM_BODY);
      const requestId = await new Promise<string>((resolve) =>
        stream.on('response', (h) => resolve(String(h['x-llm-proxy-request-id']))),
      );
      await new Promise<void>((resolve) => stream.once('data', () => resolve()));
      // RST_STREAM (CANCEL): the connection stays, only this exchange ends.
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => st.mock.stats().abortedStreams === 1);
      expect(st.mock.stats()).toMatchObject({ completedStreams: 0, activeStreams: 0 });
      let row: Awaited<ReturnType<ProxyStack['usage']>>[number] | undefined;
      await until(async () => {
        row = (await st.usage()).find((r) => r.request_id === requestId);
        return row !== undefined;
      });
      expect(row).toMatchObject({ status: 200, is_stream: 1, error: 'client_aborted' });
      expect(accessLine(st, requestId)).toMatchObject({ status: 200, stream: true, error: 'client_aborted' });
      // The session serves the next request.
      expect((await h2Request(session, { ':path': '/health' })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('sends 100 Continue over HTTP/1.1 on TLS once a request is admitted', async () => {
    const body = JSON.stringify({ model: 'text-embedding-3-small', input: 'continue' });
    const res = await new Promise<{ status: number; continued: boolean; text: string }>((resolve, reject) => {
      let continued = false;
      const req = https.request(`${st.url}/v1/embeddings`, {
        method: 'POST',
        ca: ca.cert,
        headers: {
          authorization: `Bearer ${st.token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          expect: '100-continue',
        },
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (r) => {
        let text = '';
        r.on('data', (c) => (text += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, continued, text }));
      });
      req.on('error', reject);
    });
    expect(res).toMatchObject({ status: 200, continued: true });
  });

  it('marks the session cookie Secure on sign-in over HTTPS, HTTP/1.1 and HTTP/2 alike', async () => {
    const over1 = await signIn(st.url, { token: st.s.managementToken });
    expect(over1.reply.status).toBe(200);
    expect(over1.reply.headers.get('set-cookie')).toMatch(/llmp_session=[^;]+;.*; Secure/);
    let session: ClientHttp2Session | undefined;
    try {
      session = await h2Connect(st.url, ca.cert);
      const { reply: over2, cookie } = await h2SignIn(session, st.s.managementToken);
      expect(over2.status).toBe(200);
      expect(cookie).toMatch(/; Secure/);
    } finally {
      session?.close();
    }
  });
});

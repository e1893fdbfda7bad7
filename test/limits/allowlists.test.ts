import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { chunkedPost, multipart, postJson } from './helpers.js';

/** An upstream that keeps every request's exact bytes and answers a small JSON body. */
interface Captured {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
let captured: Captured[] = [];
const capture = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    captured.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
    const body = JSON.stringify({ object: 'ok', usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

let st: ProxyStack;
/** A project whose upstream is the capture server. */
let cap: { projectId: string; id: string; token: string };
beforeAll(async () => {
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  st = await startProxyStack();
  cap = await st.addProject('capture', `http://127.0.0.1:${(capture.address() as AddressInfo).port}`);
});
afterAll(async () => {
  await st.stop();
  await new Promise<void>((resolve) => capture.close(() => resolve()));
});

const chat = (token: string, model: unknown) =>
  postJson(st, '/v1/chat/completions', token, JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }));

async function refusal(res: Response): Promise<{ status: number; code: string; message: string; param: unknown }> {
  const body = (await res.json()) as any;
  return { status: res.status, code: body.error?.code, message: body.error?.message, param: body.error?.param };
}

function transcription(token: string, parts: Parameters<typeof multipart>[0]) {
  const m = multipart(parts);
  return st.proxy('/v1/audio/transcriptions', {
    method: 'POST',
    token,
    headers: { 'content-type': m.contentType },
    body: m.body,
  });
}
const audio = { name: 'file', value: Buffer.alloc(3000, 1), filename: 'a.mp3', type: 'audio/mpeg' };

/** Sends a raw HTTP/1.1 request (fetch would normalise the path) and returns the status code. */
function rawStatus(path: string, token: string, body: string): Promise<number> {
  const { port } = new URL(st.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    let head = '';
    socket.on('data', (c) => {
      head += c.toString('latin1');
    });
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1])));
    socket.on('error', reject);
  });
}

describe('allowlists: models', () => {
  it('globs: * matches any run, ? one character, everything else literally', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-4o*', 'o?-mini', 'gpt-4.1'] });
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4o-2024-08-06', 'o3-mini', 'o4-mini', 'gpt-4.1']) {
      expect([model, (await chat(t.token, model)).status]).toEqual([model, 200]);
    }
    for (const model of ['gpt-4.1-mini', 'gpt-4x1', 'o10-mini', 'GPT-4o', 'chatgpt-4o-latest', 'xgpt-4o']) {
      expect([model, await refusal(await chat(t.token, model))]).toEqual([
        model,
        {
          status: 403,
          code: 'model_not_allowed',
          message: `This token may not use the model ${model}.`,
          param: 'model',
        },
      ]);
    }
  });

  it('a request whose model cannot be read is refused with model_required while a list is set', async () => {
    const t = await st.issueToken({ allowed_models: ['*'] });
    const cases: Array<[string, Promise<Response>]> = [
      ['model not a string', chat(t.token, 42)],
      ['no model field', postJson(st, '/v1/chat/completions', t.token, '{"messages":[]}')],
      ['malformed JSON', postJson(st, '/v1/chat/completions', t.token, '{"model":"gpt-4o",')],
      [
        'JSON sent as text/plain',
        st.proxy('/v1/chat/completions', {
          method: 'POST',
          token: t.token,
          headers: { 'content-type': 'text/plain' },
          body: '{"model":"gpt-4o"}',
        }),
      ],
      ['no body at all (GET)', st.proxy('/v1/models', { token: t.token })],
      [
        'a chunked body (length not declared)',
        st.proxy('/v1/chat/completions', chunkedPost(t.token, '{"model":"gpt-4o","messages":[]}')),
      ],
      ['multipart without a model field', transcription(t.token, [audio])],
    ];
    for (const [name, pending] of cases) {
      const r = await refusal(await pending);
      expect([name, r.status, r.code, r.param]).toEqual([name, 403, 'model_required', 'model']);
    }
    // With the list lifted the same requests go through (to the upstream, which judges them).
    await st.s.manage('PATCH', `/tokens/${t.id}`, { allowed_models: null });
    expect((await chat(t.token, 42)).status).toBe(400);
    expect((await st.proxy('/v1/models', { token: t.token })).status).toBe(200);
  });

  it('the multipart model field of /v1/audio/transcriptions is checked', async () => {
    const t = await st.issueToken({ allowed_models: ['whisper-1'] });
    const ok = await transcription(t.token, [{ name: 'model', value: 'whisper-1' }, audio]);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).text).toBe('Mock transcription of 3000 bytes of audio.');
    // The field may come after the file.
    expect((await transcription(t.token, [audio, { name: 'model', value: 'whisper-1' }])).status).toBe(200);
    expect(await refusal(await transcription(t.token, [{ name: 'model', value: 'gpt-4o-transcribe' }, audio]))).toEqual(
      {
        status: 403,
        code: 'model_not_allowed',
        message: 'This token may not use the model gpt-4o-transcribe.',
        param: 'model',
      },
    );
  });

  it('a multipart body cannot smuggle a second model past the check', async () => {
    const t = await st.issueToken({ allowed_models: ['whisper-1'] });
    const attempts: Array<[string, Parameters<typeof multipart>[0]]> = [
      [
        'a second model field (the upstream reads the last)',
        [{ name: 'model', value: 'whisper-1' }, audio, { name: 'model', value: 'gpt-4o-transcribe' }],
      ],
      [
        'a file part whose filename is "model"',
        [
          { name: 'file', value: 'whisper-1', filename: 'model', type: 'audio/mpeg' },
          { name: 'model', value: 'gpt-4o-transcribe' },
        ],
      ],
    ];
    const before = st.mock.stats().requests;
    for (const [name, parts] of attempts) {
      const r = await refusal(await transcription(t.token, parts));
      expect([name, r.status]).toEqual([name, 403]);
    }
    expect(st.mock.stats().requests - before).toBe(0);
  });
});

describe('allowlists: endpoints', () => {
  it('rules with a method match that method only; rules without one match any; the query is ignored', async () => {
    const t = await st.issueToken({ allowed_endpoints: ['post /v1/chat/*', '/v1/models*'] });
    expect((await chat(t.token, 'gpt-4o')).status).toBe(200);
    expect((await st.proxy('/v1/models?limit=2', { token: t.token })).status).toBe(200);
    expect((await st.proxy('/v1/models/gpt-4o', { token: t.token })).status).toBe(200);
    expect((await st.proxy('/v1/models/gpt-4o', { method: 'DELETE', token: t.token })).status).not.toBe(403);

    const denied: Array<[string, string]> = [
      ['GET', '/v1/chat/completions'],
      ['POST', '/v1/embeddings'],
      ['POST', '/v1/responses'],
      ['GET', '/v1/files'],
    ];
    for (const [method, path] of denied) {
      const res = await st.proxy(path, {
        method,
        token: t.token,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      expect(await refusal(res)).toEqual({
        status: 403,
        code: 'endpoint_not_allowed',
        message: `This token may not call ${method} ${path}.`,
        param: null,
      });
    }
  });

  it('a path with dot segments cannot climb out of an allowed prefix', async () => {
    const t = await st.issueToken({ allowed_endpoints: ['POST /v1/chat/*'] });
    const body = JSON.stringify({ model: 'text-embedding-3-small', input: 'x' });
    const before = st.mock.stats().requests;
    // Refused as invalid_path (400) before any rule is matched: see test/proxy/request-line.test.ts.
    for (const path of ['/v1/chat/../embeddings', '/v1/chat/%2e%2e/embeddings', '/v1/chat/./../embeddings']) {
      expect([path, await rawStatus(path, t.token, body)]).toEqual([path, 400]);
    }
    expect(st.mock.stats().requests - before).toBe(0);
    expect(await rawStatus('/v1/chat/completions', t.token, '{"model":"gpt-4o","messages":[]}')).toBe(200);
  });
});

describe('allowlists: token and project lists both apply', () => {
  it('models: a request must pass the project list and the token list', async () => {
    const p = await st.addProject('both-models');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { allowed_models: ['gpt-4o*', 'o3-mini'] });
    await st.s.manage('PATCH', `/tokens/${p.id}`, { allowed_models: ['*mini'] });
    expect((await chat(p.token, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(p.token, 'o3-mini')).status).toBe(200);
    expect((await refusal(await chat(p.token, 'gpt-4o'))).code).toBe('model_not_allowed'); // token says no
    expect((await refusal(await chat(p.token, 'o4-mini'))).code).toBe('model_not_allowed'); // project says no
  });

  it('endpoints: a request must pass the project list and the token list', async () => {
    const p = await st.addProject('both-endpoints');
    await st.s.manage('PATCH', `/projects/${p.projectId}`, { allowed_endpoints: ['POST /v1/*'] });
    await st.s.manage('PATCH', `/tokens/${p.id}`, { allowed_endpoints: ['/v1/chat/completions', '/v1/models'] });
    expect((await chat(p.token, 'gpt-4o')).status).toBe(200);
    expect((await refusal(await st.proxy('/v1/models', { token: p.token }))).code).toBe('endpoint_not_allowed'); // project
    const emb = await postJson(st, '/v1/embeddings', p.token, '{"model":"text-embedding-3-small","input":"x"}');
    expect((await refusal(emb)).code).toBe('endpoint_not_allowed'); // token
  });
});

describe('allowlists: the inspected body is forwarded byte for byte', () => {
  it('JSON with odd spacing, escapes and extra fields reaches the upstream unchanged', async () => {
    await st.s.manage('PATCH', `/tokens/${cap.id}`, { allowed_models: ['gpt-4o*'], budget_usd: 5 });
    const text =
      '{ "model" :"gpt-4o-mini",\n  "messages":[{"role":"user","content":"caf\\u00e9 \u00e9t\u00e9 \\ud83d\\ude00"}],' +
      '"max_tokens":7, "x_extra":{"nested":[1,2.50,true,null]}  }\n';
    captured = [];
    const res = await postJson(st, '/v1/chat/completions', cap.token, text);
    expect(res.status).toBe(200);
    const got = captured[0];
    expect(got?.body.equals(Buffer.from(text))).toBe(true);
    expect(got?.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(got?.headers['content-type']).toBe('application/json');
  });

  it('a streamed request that already asks for usage is forwarded unchanged too', async () => {
    const text = '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]}';
    captured = [];
    expect((await postJson(st, '/v1/chat/completions', cap.token, text)).status).toBe(200);
    expect(captured[0]?.body.toString()).toBe(text);
  });

  it('a multipart transcription reaches the upstream unchanged (and the mock counts the same bytes)', async () => {
    await st.s.manage('PATCH', `/tokens/${cap.id}`, { allowed_models: ['gpt-4o*'] });
    const m = multipart([
      { name: 'model', value: 'gpt-4o-transcribe' },
      { name: 'file', value: Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 256)), filename: 'b.mp3' },
      { name: 'prompt', value: 'na\u00efve' },
    ]);
    captured = [];
    const res = await st.proxy('/v1/audio/transcriptions', {
      method: 'POST',
      token: cap.token,
      headers: { 'content-type': m.contentType },
      body: m.body,
    });
    expect(res.status).toBe(200);
    expect(captured[0]?.body.equals(m.body)).toBe(true);
    expect(captured[0]?.headers['content-type']).toBe(m.contentType);

    // The same through the mock upstream: what it received is what was sent.
    const t = await st.issueToken({ allowed_models: ['gpt-4o*'] });
    const viaMock = await st.proxy('/v1/audio/transcriptions', {
      method: 'POST',
      token: t.token,
      headers: { 'content-type': m.contentType },
      body: m.body,
    });
    expect(((await viaMock.json()) as any).text).toBe('Mock transcription of 5000 bytes of audio.');
    const seen = st.mock.requests().at(-1);
    expect(seen?.bodyBytes).toBe(m.body.length);
    expect(seen?.headers['content-length']).toBe(String(m.body.length));
  });
});

describe('allowlist bounds at the management API', () => {
  const tooMany = Array.from({ length: 101 }, (_, i) => `gpt-${i}*`);
  const tooLong = [`gpt-${'?'.repeat(197)}`];
  const atBounds = Array.from({ length: 100 }, () => `/v1/*${'?'.repeat(194)}x`);

  it('a list over 100 globs or a glob over 200 characters gets 400 naming the field, everywhere', async () => {
    const t = await st.issueToken();
    const refused: string[] = [];
    for (const field of ['allowed_models', 'allowed_endpoints']) {
      for (const [label, list] of [
        ['101 globs', field === 'allowed_models' ? tooMany : tooMany.map((g) => `/v1/${g}`)],
        ['201 characters', field === 'allowed_models' ? tooLong : [`/v1/${'?'.repeat(197)}`]],
      ] as const) {
        expect(list.length === 101 || (list[0] as string).length === 201).toBe(true);
        for (const [method, route, body] of [
          ['POST', '/tokens', { project_id: st.projectId, [field]: list }],
          ['PATCH', `/tokens/${t.id}`, { [field]: list }],
          ['POST', '/tokens/batch', { project_id: st.projectId, count: 2, [field]: list }],
          ['POST', '/projects', { name: `bounds-${field}-${label}`, api_key: 'sk-1', [field]: list }],
          ['PATCH', `/projects/${st.projectId}`, { [field]: list }],
        ] as const) {
          const res = await st.s.manage(method, route, body);
          const e = res.body?.error;
          const bound = label === '101 globs' ? 'at most 100 entries' : 'at most 200 characters';
          if (
            res.status !== 400 ||
            !e?.param?.startsWith(field) ||
            !e.message.includes(field) ||
            !e.message.includes(bound)
          ) {
            refused.push(`${method} ${route} ${field} ${label}: ${res.status} ${JSON.stringify(e)}`);
          }
        }
      }
    }
    expect(refused).toEqual([]);
    // Nothing was stored.
    expect((await st.s.manage('GET', `/tokens/${t.id}`)).body).toMatchObject({
      allowed_models: null,
      allowed_endpoints: null,
    });
  });

  it('lists at the bounds are taken', async () => {
    const res = await st.s.manage('POST', '/tokens', { project_id: st.projectId, allowed_endpoints: atBounds });
    expect(res.status).toBe(201);
    expect(res.body.allowed_endpoints).toHaveLength(100);
    expect((res.body.allowed_endpoints[0] as string).length).toBe(200);
  });
});

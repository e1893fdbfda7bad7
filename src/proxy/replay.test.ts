import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyRequest } from './proxy-request.js';
import {
  replay,
  type StoredResponse,
  storedFromBuffer,
  storedFromJson,
  storedToBuffer,
  storedToJson,
} from './replay.js';
import { REQUEST_ID_HEADER } from './reply.js';

const sse = Buffer.from(
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"hé"}}]}\n\ndata: {"id":"c1","choices":[]}\n\ndata: [DONE]\n\n',
);
const json: StoredResponse = {
  status: 201,
  headers: ['content-type', 'application/json', 'openai-model', 'gpt-4o', 'x-request-id', 'req_1'],
  body: Buffer.from('{"object":"list","data":[]}'),
  stream: false,
  storedAt: 1_700_000_000_000,
};
const stream: StoredResponse = {
  status: 200,
  headers: ['content-type', 'text/event-stream; charset=utf-8'],
  body: sse,
  stream: true,
  storedAt: 1_700_000_000_001,
};

/** Each request is answered by replaying the stored response its path names. */
let server: Server;
let base: string;
const stored: Record<string, StoredResponse> = { '/json': json, '/stream': stream };

beforeAll(async () => {
  server = createServer((req, res) => {
    const pr = new ProxyRequest(req, res, `id-${req.url?.slice(1)}`, false);
    replay(pr, stored[req.url ?? ''] as StoredResponse, ['cache-status', 'llm-proxy; hit; ttl=30']);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
});

describe('replay', () => {
  it('answers with the stored status, headers and body, and the proxy’s own id and timing', async () => {
    const res = await request(`${base}/json`);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(201);
    expect(body.equals(json.body)).toBe(true);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['openai-model']).toBe('gpt-4o');
    expect(res.headers['x-request-id']).toBe('req_1');
    expect(res.headers['content-length']).toBe(String(json.body.length));
    expect(res.headers[REQUEST_ID_HEADER]).toBe('id-json');
    expect(res.headers['server-timing']).toMatch(/^proxy;dur=\d+\.\d{3}$/);
    expect(res.headers['cache-status']).toBe('llm-proxy; hit; ttl=30');
    expect(res.headers['x-accel-buffering']).toBeUndefined();
  });

  it('replays an event stream byte for byte, unbuffered', async () => {
    const res = await request(`${base}/stream`);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(body.equals(sse)).toBe(true);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-accel-buffering']).toBe('no');
  });
});

describe('stored response forms', () => {
  const binary: StoredResponse = { ...json, body: Buffer.from([0, 255, 10, 13, 0xc3, 0x28]) };

  it('round-trips through the binary and the JSON form', () => {
    for (const s of [json, stream, binary]) {
      expect(storedFromBuffer(storedToBuffer(s))).toEqual(s);
      expect(storedFromJson(storedToJson(s))).toEqual(s);
    }
  });

  it('reads anything else as no entry', () => {
    const buf = storedToBuffer(json);
    expect(storedFromBuffer(buf.subarray(0, 10))).toBeUndefined();
    expect(storedFromBuffer(Buffer.concat([Buffer.from('XXXX'), buf.subarray(4)]))).toBeUndefined();
    expect(storedFromBuffer(Buffer.from('LPR1\xff\xff\xff\xff', 'latin1'))).toBeUndefined();
    expect(storedFromBuffer(Buffer.alloc(0))).toBeUndefined();
    expect(storedFromJson('not json')).toBeUndefined();
    expect(storedFromJson('null')).toBeUndefined();
    const head = JSON.parse(storedToJson(json));
    expect(storedFromJson(JSON.stringify({ ...head, v: 2 }))).toBeUndefined();
    expect(storedFromJson(JSON.stringify({ ...head, status: 99 }))).toBeUndefined();
    expect(storedFromJson(JSON.stringify({ ...head, body: 5 }))).toBeUndefined();
    expect(storedFromJson(JSON.stringify({ ...head, headers: ['content-type'] }))).toBeUndefined();
    // A store that was written to by someone else cannot make a replay set a cookie or split a header.
    expect(storedFromJson(JSON.stringify({ ...head, headers: ['set-cookie', 'a=1'] }))).toBeUndefined();
    expect(
      storedFromJson(JSON.stringify({ ...head, headers: ['openai-model', 'a\r\nset-cookie: x'] })),
    ).toBeUndefined();
  });
});

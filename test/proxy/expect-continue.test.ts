import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/*
 * `Expect: 100-continue` (curl adds it to bodies over 1 MiB): the proxy answers it itself, sends
 * the 100 only once the request is admitted, and never forwards the header (undici refuses it).
 */

const MB = 1024 * 1024;
let st: ProxyStack;
let dir: string;
let port: number;

beforeAll(async () => {
  st = await startProxyStack();
  port = Number(new URL(st.url).port);
  dir = mkdtempSync(path.join(tmpdir(), 'llmp-expect-'));
  writeFileSync(path.join(dir, 'audio.bin'), Buffer.alloc(2 * MB, 7));
  const input = 'word '.repeat(Math.ceil((1.2 * MB) / 5));
  writeFileSync(path.join(dir, 'embeddings.json'), JSON.stringify({ model: 'text-embedding-3-small', input }));
});
afterAll(async () => {
  await st.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => st.mock.reset());

/** Runs the real curl; resolves with the status it printed, the body and its verbose trace. */
function curl(args: string[]): Promise<{ status: number; body: string; trace: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-v', '-w', '\n%{http_code}', ...args], (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl failed: ${err.message}\n${stderr}`));
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut), trace: stderr });
    });
  });
}

/**
 * Writes a request head (no body) on a raw socket and collects everything until the server
 * closes the connection: what a client that waits for `100 Continue` sees when none comes.
 */
function headOnly(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** http.request with a hand-set Expect: the body is written only on the 'continue' event. */
function expectRequest(
  urlPath: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request(
      `${st.url}${urlPath}`,
      {
        method: 'POST',
        headers: { expect: '100-continue', 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, continued }));
      },
    );
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
  });
}

const auth = () => ['-H', `Authorization: Bearer ${st.token}`];

describe('Expect: 100-continue', () => {
  it('curl uploads a 2 MB multipart transcription: 100 Continue, then the upstream answers', async () => {
    const out = await curl([
      ...auth(),
      '-F',
      'model=whisper-1',
      '-F',
      `file=@${path.join(dir, 'audio.bin')};type=audio/mpeg`,
      `${st.url}/v1/audio/transcriptions`,
    ]);
    expect(out.trace).toMatch(/> Expect: 100-continue/i);
    expect(out.trace).toMatch(/< HTTP\/1\.1 100 Continue/);
    expect(out.status).toBe(200);
    expect(typeof JSON.parse(out.body).text).toBe('string');
    const [sent] = st.mock.requests();
    expect(sent?.headers.expect).toBeUndefined();
    expect(sent?.bodyBytes).toBeGreaterThan(2 * MB);
  });

  it('curl posts 1.2 MB of JSON to /v1/embeddings', async () => {
    const out = await curl([
      ...auth(),
      '-H',
      'content-type: application/json',
      '--data-binary',
      `@${path.join(dir, 'embeddings.json')}`,
      `${st.url}/v1/embeddings`,
    ]);
    expect(out.trace).toMatch(/< HTTP\/1\.1 100 Continue/);
    expect(out.status).toBe(200);
    expect(JSON.parse(out.body).object).toBe('list');
    const [sent] = st.mock.requests();
    expect(sent?.headers.expect).toBeUndefined();
    expect(sent?.bodyBytes).toBeGreaterThan(1.2 * MB);
  });

  it('a hand-set Expect on a small body is continued and forwarded without the header', async () => {
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const out = await expectRequest(
      '/v1/chat/completions',
      { authorization: `Bearer ${st.token}`, 'content-type': 'application/json' },
      body,
    );
    expect(out).toMatchObject({ status: 200, continued: true });
    expect(JSON.parse(out.body).object).toBe('chat.completion');
    const [sent] = st.mock.requests();
    expect(sent?.headers.expect).toBeUndefined();
    expect(sent?.bodyBytes).toBe(Buffer.byteLength(body));
  });

  it('the body is let in after a model check too (the proxy reads it before forwarding)', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-4o*'] });
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const ok = await expectRequest(
      '/v1/chat/completions',
      { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
      body,
    );
    expect(ok).toMatchObject({ status: 200, continued: true });
  });

  it('an unknown token gets its 401 without a 100 and without uploading the body', async () => {
    const text = await headOnly(
      'POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-llmp-nope\r\n' +
        `Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${5 * MB}\r\nExpect: 100-continue\r\n\r\n`,
    );
    expect(text.startsWith('HTTP/1.1 401 ')).toBe(true);
    expect(text).not.toContain('100 Continue');
    expect(text.toLowerCase()).toContain('x-should-retry: false');
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).toBe('invalid_api_key');
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('an oversize declared body (413) and a spent request cap (429) are refused before the upload', async () => {
    const head = (token: string, length: number) =>
      `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${length}\r\nExpect: 100-continue\r\n\r\n`;
    const big = await headOnly(head(st.token, 600 * MB));
    expect(big.startsWith('HTTP/1.1 413 ')).toBe(true);
    expect(big).not.toContain('100 Continue');

    const capped = await st.issueToken({ max_requests: 1 });
    expect((await st.proxy('/v1/models', { token: capped.token })).status).toBe(200);
    const spent = await headOnly(head(capped.token, 1000));
    expect(spent.startsWith('HTTP/1.1 429 ')).toBe(true);
    expect(spent).not.toContain('100 Continue');
    expect(st.mock.requests()).toHaveLength(1);
  });

  it('any other expectation is a 417 in OpenAI error shape, on /v1 and /manage alike', async () => {
    for (const where of ['/v1/chat/completions', '/manage/projects']) {
      const text = await headOnly(
        `POST ${where} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${st.token}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 2\r\nExpect: teapot\r\n\r\n',
      );
      expect(text.startsWith('HTTP/1.1 417 ')).toBe(true);
      const error = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error;
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'expectation_failed' });
    }
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('HTTP/1.0 with an Expect header: no 100 (1.0 has none), forwarded without the header', async () => {
    const body = '{"model":"text-embedding-3-small","input":"x"}';
    const text = await headOnly(
      `POST /v1/embeddings HTTP/1.0\r\nHost: x\r\nAuthorization: Bearer ${st.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body}`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).not.toContain('100 Continue');
    expect(st.mock.requests()[0]?.headers.expect).toBeUndefined();
  });

  it('the management API takes bodies sent after 100 Continue', async () => {
    const out = await expectRequest(
      '/manage/projects',
      { authorization: `Bearer ${st.s.managementToken}`, 'content-type': 'application/json' },
      JSON.stringify({ name: 'expect-continue', api_key: 'sk-x' }),
    );
    expect(out).toMatchObject({ status: 201, continued: true });
    expect(JSON.parse(out.body).name).toBe('expect-continue');
  });
});

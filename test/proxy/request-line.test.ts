import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/*
 * What the proxy refuses from the request line alone, before the token and before anything is
 * forwarded: paths that a normalising upstream would resolve outside the project's base URL, and
 * methods it does not forward. The mock upstream's request log shows that nothing arrived.
 */

let st: ProxyStack;
let port: number;
beforeAll(async () => {
  st = await startProxyStack();
  port = Number(new URL(st.url).port);
});
afterAll(() => st.stop());
beforeEach(() => st.mock.reset());

interface Raw {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** One raw HTTP/1.1 exchange (fetch would normalise the path and refuses some methods). */
function raw(method: string, target: string, token: string | null = st.token): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
          `${token ? `Authorization: Bearer ${token}\r\n` : ''}\r\n`,
      );
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const rest = text.slice(split + 4);
      // Forwarded replies may be chunked; only the proxy's own (JSON with a length) are parsed.
      let body: unknown = rest;
      try {
        body = JSON.parse(rest);
      } catch {}
      resolve({ status: Number(statusLine?.split(' ')[1]), headers, body });
    });
  });
}

const ESCAPES = [
  '/v1/../../admin/keys',
  '/v1/models/..',
  '/v1/./models',
  '/v1/%2e%2e/%2e%2e/admin/keys',
  '/v1/%2E%2e/admin',
  '/v1/.%2e/admin',
  '/v1/%252e%252e/admin',
  '/v1/%25252e%25252e/admin',
  '/v1/models/..%2f..%2fadmin',
  '/v1/models%2f%2e%2e%2fadmin',
  '/v1/models\\..\\admin',
  '/v1/models%5c..%5cadmin',
  '/v1/models%255cadmin',
  '/v1/files/x\\y',
  '/v1/x/..;/admin',
  '/v1/models/..?after=1',
];

describe('paths that could leave the base URL', () => {
  it('dot segments and backslashes, raw or encoded (twice too), get 400 invalid_path and go nowhere', async () => {
    for (const target of ESCAPES) {
      const out = await raw('GET', target);
      expect([target, out.status]).toEqual([target, 400]);
      expect(out.body.error).toEqual({
        message:
          "The request path contains a '.' or '..' segment, a backslash, a control character or invalid UTF-8 (also percent-encoded or as a look-alike), which the proxy does not forward.",
        type: 'invalid_request_error',
        code: 'invalid_path',
        param: null,
      });
      expect(out.headers['x-should-retry']).toBe('false');
      expect(out.headers['x-llm-proxy-request-id']).toBeTruthy();
    }
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('NUL and control characters, invalid or overlong UTF-8, %U escapes and look-alike dots get the same 400', async () => {
    const forms = [
      // IIS-style escapes in either case (the lower-case form was the only one decoded).
      '/v1/%U002E%U002E/admin',
      '/v1/%U002e%u002E/admin',
      '/v1/models%U002Fx',
      // Characters a server may strip or stop at: `..%00` reads as `..` to a C string.
      '/v1/..%00/admin',
      '/v1/..%09/admin',
      '/v1/models%00',
      '/v1/models%0d%0aHost:%20evil',
      '/v1/models%7f',
      '/v1/models%c2%85',
      '/v1/..%2500/admin',
      // Invalid UTF-8: overlong `.` and `/`, a lone surrogate, a stray byte.
      '/v1/%c0%ae%c0%ae/admin',
      '/v1/%e0%80%ae%e0%80%ae/admin',
      '/v1/..%c0%afadmin',
      '/v1/%f0%80%80%ae/admin',
      '/v1/models%ed%a0%80',
      '/v1/models%ff',
      '/v1/%25c0%25ae%25c0%25ae/admin',
      // Characters that NFKC-normalise to `.`, `/`, `\` or `%`.
      '/v1/%ef%bc%8e%ef%bc%8e/admin',
      '/v1/%e2%80%a4%e2%80%a4/admin',
      '/v1/%e2%80%a5/admin',
      '/v1/%ef%b9%92/admin',
      '/v1/models%ef%bc%8f..%ef%bc%8fadmin',
      '/v1/models%ef%bc%bcadmin',
      '/v1/models%ef%b9%a8admin',
      '/v1/%ef%bc%852e%ef%bc%852e/admin',
      // Segments of only dots and spaces, which some servers trim to `..`.
      '/v1/.../admin',
      '/v1/..%20/admin',
    ];
    const passed: string[] = [];
    for (const target of forms) {
      const out = await raw('GET', target);
      if (out.status !== 400 || out.body?.error?.code !== 'invalid_path') passed.push(target);
    }
    expect(passed).toEqual([]);
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('ordinary OpenAI paths, non-ASCII names and anything in the query are forwarded', async () => {
    const fine = [
      '/v1/files/file-abc123XYZ/content',
      '/v1/fine_tuning/jobs/ftjob-abc_DEF-123/events',
      '/v1/vector_stores/vs_abc/files/file-xyz',
      '/v1/batches/batch_6789abc/cancel',
      '/v1/responses/resp_123?include[]=x&after=..%00%c0%ae',
      '/v1/models/caf%C3%A9-%E6%A8%A1%E5%9E%8B',
      '/v1/models/a%20b',
      '/v1/models/gpt-4.1-mini-2025-04-14',
    ];
    for (const target of fine) expect([target, (await raw('GET', target)).status]).not.toEqual([target, 400]);
    expect(st.mock.requests().map((r) => r.path)).toEqual(fine);
  });

  it('is checked before the token: no token, or an unknown one, still gets the 400', async () => {
    expect((await raw('GET', '/v1/../admin', null)).status).toBe(400);
    expect((await raw('POST', '/v1/%2e%2e/admin', 'sk-llmp-unknown')).status).toBe(400);
    const long = await raw('GET', `/v1/${'a'.repeat(2045)}`, null);
    expect([long.status, long.body.error?.code]).toEqual([400, 'invalid_path']);
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('dots inside names, encoded characters and dots in the query are forwarded unchanged', async () => {
    const fine = [
      '/v1/models/gpt-4.1',
      '/v1/models/ft%3Agpt-4o-mini%3Aorg%3A%3Aabc',
      '/v1/models?x=../..',
      '/v1/a...b/.x',
    ];
    for (const target of fine) expect([target, (await raw('GET', target)).status]).not.toEqual([target, 400]);
    expect(st.mock.requests().map((r) => r.path)).toEqual(fine);
  });
});

describe('methods the proxy does not forward', () => {
  it('TRACE and PROPFIND get 405 with Allow, in OpenAI error shape, and are not forwarded', async () => {
    for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'LOCK']) {
      const out = await raw(method, '/v1/models');
      expect([method, out.status]).toEqual([method, 405]);
      expect(out.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      expect(out.headers['x-should-retry']).toBe('false');
      expect(out.body.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
      expect(out.body.error.message).toContain(method);
    }
    expect(st.mock.requests()).toHaveLength(0);
  });

  it('CONNECT gets a 405 answer and the connection is closed (no hang, no tunnel)', async () => {
    for (const target of ['example.com:443', '127.0.0.1:1']) {
      const out = await raw('CONNECT', target);
      expect(out.status).toBe(405);
      expect(out.headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      expect(out.body.error.code).toBe('method_not_allowed');
    }
    expect(st.mock.requests()).toHaveLength(0);
    // The server still serves.
    expect((await raw('GET', '/v1/models')).status).toBe(200);
  });

  it('the documented methods are still forwarded', async () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) await raw(method, '/v1/models');
    expect(st.mock.requests().map((r) => r.method)).toEqual([
      'GET',
      'HEAD',
      'POST',
      'PUT',
      'PATCH',
      'DELETE',
      'OPTIONS',
    ]);
  });
});

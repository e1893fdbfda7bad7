import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

// A self-signed certificate for localhost and 127.0.0.1, trusted by this test process only.
const cert = readFileSync(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url), 'utf8');
const key = readFileSync(new URL('../fixtures/tls/localhost-key.pem', import.meta.url), 'utf8');

const completion = JSON.stringify({
  id: 'chatcmpl-tls',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});

let st: ProxyStack;
let upstream: http2.Http2SecureServer;
/** The HTTP version of every request the upstream received. */
const versions: string[] = [];

beforeAll(async () => {
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), cert]);
  // An upstream that offers HTTP/2 by ALPN and also speaks HTTP/1.1, as api.openai.com does.
  upstream = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'tls' });
      res.end(completion);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  st = await startProxyStack();
});
afterAll(async () => {
  await st?.stop();
  await new Promise((resolve) => upstream?.close(resolve));
});

describe('proxy: the upstream leg over TLS', () => {
  it('speaks HTTP/1.1 to an upstream that also offers HTTP/2, one request per connection slot', async () => {
    const { token } = await st.addProject('tls', `https://localhost:${(upstream.address() as AddressInfo).port}`);
    const res = await st.proxy('/v1/chat/completions', {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('tls');
    expect(await res.text()).toBe(completion);
    expect(versions).toEqual(['1.1']);
  });
});

import { copyFileSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { h2Connect, h2Post } from '../helpers/http2-client.js';
import { normaliseIds, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

const BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'drain' }] });

describe('shutdown with HTTP/2 streams in flight', () => {
  let ca: TestCa;
  let st: ProxyStack;
  let previous: Dispatcher;
  let agent: Agent;

  beforeAll(async () => {
    ca = testCa();
    const leaf = ca.issue('drain');
    const dir = mkdtempSync(path.join(ca.dir, 'served-'));
    copyFileSync(leaf.certFile, path.join(dir, 'tls.crt'));
    copyFileSync(leaf.keyFile, path.join(dir, 'tls.key'));
    previous = getGlobalDispatcher();
    agent = new Agent({ connect: { ca: ca.cert }, allowH2: false });
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

  it('lets a stream finish, tells the connection to open no new stream (GOAWAY), and stops', async () => {
    const session = await h2Connect(st.url, ca.cert);
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    session.on('error', () => {});
    const stream = session.request(
      h2Post('/v1/chat/completions', st.token, { 'x-mock-chunks': '20', 'x-mock-chunk-delay-ms': '100' }),
    );
    stream.end(BODY);
    let text = '';
    let first: () => void = () => {};
    const started = new Promise<void>((resolve) => (first = resolve));
    const done = new Promise<string>((resolve, reject) => {
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        text += c;
        first();
      });
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
    });
    await started;
    const stopped = st.s.server.stop();
    const body = await done;
    await stopped;
    expect(goaway).toBe(true);
    const direct = await st.direct('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-chunks': '20' },
      body: BODY,
    });
    expect(normaliseIds(body)).toBe(normaliseIds(await direct.text()));
    // Its usage record was written before the store closed.
    expect(st.s.logs()).toMatch(/"status":200,"model":"gpt-4o-mini","stream":true/);
    session.destroy();
  });
});

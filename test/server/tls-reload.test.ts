import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import type { ClientHttp2Session } from 'node:http2';
import path from 'node:path';
import tls from 'node:tls';
import { Agent, type Dispatcher, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Leaf, replaceAtomically, type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { startMockUpstream } from '../../src/mock-upstream/index.js';
import { spawnServe } from '../helpers/cli.js';
import { h2Connect, h2Post } from '../helpers/http2-client.js';
import { normaliseIds, type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { serviceAvailable } from '../helpers/services.js';

/** The serial number of the certificate a new TLS connection to `url` is served. */
function servedSerial(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca, servername: 'localhost' }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** Polls until new connections are served `serial` (no fixed wait: a reload takes what the machine gives it). */
async function untilServed(url: string, ca: string, serial: string): Promise<void> {
  await until(async () => (await servedSerial(url, ca)) === serial);
}

/** Log lines whose message begins with `msg`, parsed. */
function lines(text: string, msg: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}`))
    .map((l) => JSON.parse(l));
}

const CHUNKS = 30;
const SLOW_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'slow' }] });

/**
 * A slow streamed completion over HTTP/2 (the mock paces its chunks: 6 s, far longer than a reload
 * takes however busy the machine): resolves with the whole body once it ends; `started` once the
 * first chunk is in.
 */
function slowStream(session: ClientHttp2Session, token: string): { started: Promise<void>; done: Promise<string> } {
  const stream = session.request(
    h2Post('/v1/chat/completions', token, { 'x-mock-chunks': String(CHUNKS), 'x-mock-chunk-delay-ms': '200' }),
  );
  stream.end(SLOW_BODY);
  let text = '';
  let onStart: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const done = new Promise<string>((resolve, reject) => {
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      text += c;
      onStart();
    });
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  return { started, done };
}

describe('certificate reload on a change of the files (Kubernetes secret volume)', () => {
  let ca: TestCa;
  let first: Leaf;
  let st: ProxyStack;
  let mount: string;
  let version = 0;
  let previous: Dispatcher;
  let agent: Agent;

  /** Publishes a pair the way the kubelet updates a secret volume: a new folder, then the `..data` link swapped. */
  const publish = (cert: string, key: string) => {
    const dir = `..${++version}`;
    mkdirSync(path.join(mount, dir));
    writeFileSync(path.join(mount, dir, 'tls.crt'), cert);
    writeFileSync(path.join(mount, dir, 'tls.key'), key);
    symlinkSync(dir, path.join(mount, '..data_tmp'));
    renameSync(path.join(mount, '..data_tmp'), path.join(mount, '..data'));
  };

  beforeAll(async () => {
    ca = testCa();
    first = ca.issue('proxy-first');
    mount = mkdtempSync(path.join(ca.dir, 'secret-'));
    publish(first.cert, first.key);
    symlinkSync('..data/tls.crt', path.join(mount, 'tls.crt'));
    symlinkSync('..data/tls.key', path.join(mount, 'tls.key'));
    // The stack's own helpers (fetch) trust the test CA.
    previous = getGlobalDispatcher();
    agent = new Agent({ connect: { ca: ca.cert }, allowH2: false });
    setGlobalDispatcher(agent);
    st = await startProxyStack({
      env: { TLS_CERT_FILE: path.join(mount, 'tls.crt'), TLS_KEY_FILE: path.join(mount, 'tls.key') },
    });
  });
  afterAll(async () => {
    await st?.stop();
    if (previous) setGlobalDispatcher(previous);
    await agent?.close();
    ca?.close();
  });

  it('serves the new certificate to new connections while a stream on an old one finishes intact', async () => {
    expect(await servedSerial(st.url, ca.cert)).toBe(first.serial);
    const session = await h2Connect(st.url, ca.cert);
    try {
      const slow = slowStream(session, st.token);
      await slow.started;
      const second = ca.issue('proxy-second');
      publish(second.cert, second.key);
      await untilServed(st.url, ca.cert, second.serial);
      // The stream began before the swap and is still running on its connection.
      expect(st.mock.stats().completedStreams).toBe(0);
      const text = await slow.done;
      // Whole: the same bytes the upstream sends for this request (ids and times aside).
      const direct = await st.direct('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-mock-chunks': String(CHUNKS) },
        body: SLOW_BODY,
      });
      expect(normaliseIds(text)).toBe(normaliseIds(await direct.text()));
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      // The connection the stream used still works, with the certificate it began with.
      expect((session.socket as tls.TLSSocket).getPeerCertificate().serialNumber).toBe(first.serial);
      const loaded = lines(st.s.logs(), 'TLS certificate loaded').at(-1);
      expect(loaded).toMatchObject({ reason: 'file change', subject: 'CN=proxy-second', serial: second.serial });
      // The metric follows the certificate served.
      const metrics = await (
        await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } })
      ).text();
      expect(metrics).toContain(`llm_proxy_tls_certificate_expiry_seconds{serial="${second.serial}"}`);
      expect(metrics).not.toContain(`serial="${first.serial}"`);
    } finally {
      session.close();
    }
  });

  it('refuses a key that does not match, keeps serving the previous pair, and takes the next good one', async () => {
    const served = await servedSerial(st.url, ca.cert);
    const third = ca.issue('proxy-third');
    const other = ca.issue('proxy-other');
    const refusedBefore = lines(st.s.logs(), 'TLS certificate reload refused').length;
    publish(third.cert, other.key);
    await until(() => lines(st.s.logs(), 'TLS certificate reload refused').length > refusedBefore);
    const refused = lines(st.s.logs(), 'TLS certificate reload refused').at(-1);
    expect(refused).toMatchObject({ reason: 'file change', serving: served });
    expect(String(refused?.err)).toContain('does not belong to the certificate');
    expect(await servedSerial(st.url, ca.cert)).toBe(served);
    expect(st.s.logs()).not.toContain('PRIVATE KEY');
    publish(third.cert, third.key);
    await untilServed(st.url, ca.cert, third.serial);
  });
});

/**
 * For a spawned `llm-proxy serve`: a CA, a mock upstream, and a folder with tls.crt and tls.key of a
 * first leaf named `commonName`; `stop` ends the server and removes them.
 */
async function servedFiles(commonName: string) {
  const ca = testCa();
  const mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  const dir = mkdtempSync(path.join(ca.dir, 'files-'));
  const cert = path.join(dir, 'tls.crt');
  const key = path.join(dir, 'tls.key');
  const first = ca.issue(commonName);
  writeFileSync(cert, first.cert);
  writeFileSync(key, first.key);
  const stop = async (serve: Awaited<ReturnType<typeof spawnServe>>) => {
    serve.child.kill('SIGTERM');
    await serve.exited;
    await mock.close();
    ca.close();
  };
  return { ca, mock, dir, cert, key, first, stop };
}

describe('certificate reload on SIGHUP (llm-proxy serve)', () => {
  it('reads the files again on SIGHUP: new connections get the new certificate', async () => {
    const { ca, mock, dir, cert, key, first, stop } = await servedFiles('serve-first');
    const serve = await spawnServe({
      DATA_DIR: path.join(dir, 'data'),
      OPENAI_API_URL: mock.url,
      TLS_CERT_FILE: cert,
      TLS_KEY_FILE: key,
    });
    try {
      expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      await until(() => serve.stderr().includes('Proxy (base_url):'));
      expect(serve.stderr()).toContain(`Proxy (base_url):  ${serve.url}/v1`);
      expect(await servedSerial(serve.url, ca.cert)).toBe(first.serial);
      const second = ca.issue('serve-second');
      // Renamed over the old files: the folder watch may see it first; SIGHUP must reload either way.
      replaceAtomically(cert, second.cert);
      replaceAtomically(key, second.key);
      serve.child.kill('SIGHUP');
      await until(() => lines(serve.stdout(), 'TLS certificate loaded').some((l) => l.reason === 'SIGHUP'));
      expect(lines(serve.stdout(), 'TLS certificate loaded').find((l) => l.reason === 'SIGHUP')).toMatchObject({
        serial: second.serial,
      });
      expect(await servedSerial(serve.url, ca.cert)).toBe(second.serial);
      expect(serve.child.exitCode).toBe(null);
      expect(readFileSync(cert, 'utf8')).toBe(second.cert);
    } finally {
      await stop(serve);
    }
  });
});

describe('certificate reload under WORKERS=2', () => {
  it('passes SIGHUP from the primary to every worker, and each serves the new certificate', async (ctx) => {
    if (!(await serviceAvailable('redis'))) return ctx.skip();
    const { ca, mock, dir, cert, key, stop } = await servedFiles('workers-first');
    const serve = await spawnServe({
      WORKERS: '2',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_RECONCILE_INTERVAL_MS: '0',
      DATA_DIR: path.join(dir, 'data'),
      OPENAI_API_URL: mock.url,
      TLS_CERT_FILE: cert,
      TLS_KEY_FILE: key,
    });
    try {
      await until(() => serve.stderr().includes('Workers:'));
      const second = ca.issue('workers-second');
      replaceAtomically(cert, second.cert);
      replaceAtomically(key, second.key);
      serve.child.kill('SIGHUP');
      const reloaded = () =>
        new Set(
          lines(serve.stdout(), 'TLS certificate loaded')
            .filter((l) => l.reason === 'SIGHUP' && l.serial === second.serial)
            .map((l) => l.worker),
        );
      await until(() => reloaded().size === 2);
      expect([...reloaded()].sort()).toEqual([0, 1]);
      // Whichever worker takes the connection serves the new certificate.
      for (let i = 0; i < 4; i++) expect(await servedSerial(serve.url, ca.cert)).toBe(second.serial);
      expect(serve.child.exitCode).toBe(null);
    } finally {
      await stop(serve);
    }
  });
});

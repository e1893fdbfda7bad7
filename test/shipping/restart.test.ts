import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { acceptedEvents, FAST, ids, SECRET, traffic } from './helpers.js';

/** The proxy stops while its sink is unreachable, and the next process on the same DATA_DIR sends what was kept. */
describe('log shipping across a restart of the proxy', () => {
  let mock: MockUpstream;
  let rx: Receiver;
  let dataDir: string;
  const spillDir = () => path.join(dataDir, 'shipping', 'webhook');
  const segments = () => readdirSync(spillDir()).filter((f) => f.startsWith('spill-'));

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    rx = await startReceiver('reset');
  });
  afterAll(async () => {
    await mock?.close();
    await rx?.close();
  });

  const start = (env: Record<string, string> = {}) =>
    startTestServer({
      ...FAST,
      OPENAI_API_URL: mock.url,
      DATA_DIR: dataDir,
      USAGE_FLUSH_INTERVAL_MS: '20',
      SHIPPING_WEBHOOK_URL: rx.url,
      SHIPPING_WEBHOOK_SECRET: SECRET,
      ...env,
    });
  const tokenFor = async (s: TestServer) => {
    const p = await s.manage('POST', '/projects', { name: 'restart', api_key: UPSTREAM_KEY });
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id });
    return t.body as { id: string; token: string };
  };
  const client = (s: TestServer, token: string) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: token, maxRetries: 0 });
  const requestIds = async (s: TestServer, tokenId: string) => {
    await s.server.runtime.usage.flush();
    return new Set((await s.server.runtime.usageRepo.listByToken(tokenId, 1000)).map((r) => r.request_id));
  };

  it('resends after the restart the events spilled before it (sink down at the TCP level)', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-ship-restart-'));
    try {
      let s = await start();
      const token = await tokenFor(s);
      await traffic(client(s, token.token), 8);
      const before = await requestIds(s, token.id);
      expect(before.size).toBe(8);
      const status = () => s.server.runtime.shipping?.status()[0];
      await until(() => status()?.lastError !== undefined && status()?.queued === 8);
      await s.stop();

      // Kept on disk, private to the proxy's user.
      expect(segments().length).toBeGreaterThan(0);
      expect(statSync(spillDir()).mode & 0o777).toBe(0o700);
      for (const f of segments()) expect(statSync(path.join(spillDir(), f)).mode & 0o777).toBe(0o600);
      expect(rx.accepted()).toEqual([]);

      rx.mode = 'ok';
      s = await start();
      try {
        await until(() => ids(acceptedEvents(rx)).size === 8);
        expect(ids(acceptedEvents(rx))).toEqual(before);
        // Events of the new process follow.
        await traffic(client(s, token.token), 2);
        const all = await requestIds(s, token.id);
        await until(() => ids(acceptedEvents(rx)).size === 10);
        expect(ids(acceptedEvents(rx))).toEqual(all);
        await until(() => segments().length === 0);
        expect(s.logs()).toContain('log shipping: resending events spilled before the last stop');
      } finally {
        await s.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('delivers what memory holds on a clean stop, and spills what a hanging sink keeps at SHUTDOWN_TIMEOUT_MS', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-ship-stop-'));
    rx.requests.length = 0;
    rx.mode = 'ok';
    try {
      // Nothing would be sent before the stop: a long interval and a batch larger than the traffic.
      const idle = { SHIPPING_FLUSH_INTERVAL_MS: '600000', SHIPPING_BATCH_SIZE: '1000' };
      let s = await start(idle);
      const token = await tokenFor(s);
      await traffic(client(s, token.token), 4);
      const first = await requestIds(s, token.id);
      expect(rx.requests).toEqual([]);
      await s.stop();
      expect(ids(acceptedEvents(rx))).toEqual(first);
      expect(segments()).toEqual([]);

      // A sink that never answers: the stop aborts the delivery at the deadline and keeps the batch.
      rx.mode = 'hang';
      s = await start({ ...idle, SHUTDOWN_TIMEOUT_MS: '1000' });
      await traffic(client(s, token.token), 3);
      const second = [...(await requestIds(s, token.id))].filter((id) => !first.has(id));
      expect(second).toHaveLength(3);
      await s.stop();
      // One delivery was tried, unless draining the requests took the whole second.
      expect(rx.hanging()).toBeLessThanOrEqual(1);
      expect(segments().length).toBeGreaterThan(0);

      rx.mode = 'ok';
      s = await start();
      try {
        await until(() => second.every((id) => ids(acceptedEvents(rx)).has(id)));
      } finally {
        await s.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

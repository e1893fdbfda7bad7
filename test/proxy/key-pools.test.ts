import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';
import { chat, eventually, newProject, newToken, serversOnPostgres } from '../helpers/scaleout.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer } from '../helpers/server.js';

/** The second upstream's key: it takes it only as an `api-key` header, as Azure OpenAI does. */
const AZURE_KEY = 'azure-upstream-key-7c1e0b9f3d2a4e6f';
registerSecret(AZURE_KEY);

const accessLines = (st: ProxyStack) =>
  st.s
    .logs()
    .split('\n')
    .filter((l) => l.includes('"msg":"proxy request"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A project with two upstream keys on two upstreams, driven by the official client: the proxy
 * sends each request with an enabled key, in that key's auth style, to that key's base URL, and
 * enabling or disabling a key takes effect at the next request, without a restart.
 */
describe('key pools, end to end', () => {
  let st: ProxyStack;
  let azure: MockUpstream;
  let primaryId: string;
  let azureId: string;

  beforeAll(async () => {
    // Latency estimates forgotten within a millisecond: the two alike keys are drawn by weight
    // (test/resilience/balancing.test.ts covers the balancing itself).
    st = await startProxyStack({ env: { UPSTREAM_LATENCY_DECAY_MS: '1' } });
    azure = await startMockUpstream({ apiKey: AZURE_KEY, authStyle: 'api-key' });
    const keys = await st.s.manage('GET', `/projects/${st.projectId}/keys`);
    primaryId = keys.body.data[0].id;
    const added = await st.s.manage('POST', `/projects/${st.projectId}/keys`, {
      name: 'azure',
      api_key: AZURE_KEY,
      base_url: `${azure.url}/v1`,
      auth_style: 'api-key',
    });
    expect(added.status).toBe(201);
    azureId = added.body.id;
  });
  afterAll(async () => {
    await st?.stop();
    await azure?.close();
  });

  const setEnabled = async (keyId: string, enabled: boolean) =>
    expect((await st.s.manage('PATCH', `/projects/${st.projectId}/keys/${keyId}`, { enabled })).status).toBe(200);

  it('with the first key disabled, every request goes to the api-key upstream, with its key in api-key only', async () => {
    await setEnabled(primaryId, false);
    st.mock.reset();
    azure.reset();
    const reply = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const stream = await st.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello again' }],
      stream: true,
    });
    let chunks = 0;
    for await (const _ of stream) chunks++;
    expect(chunks).toBeGreaterThan(0);

    expect(st.mock.requests()).toHaveLength(0);
    const seen = azure.requests();
    expect(seen.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/chat/completions'],
    ]);
    for (const r of seen) {
      expect(r.headers['api-key']).toBe(AZURE_KEY);
      expect(r.headers.authorization).toBeUndefined();
    }
    // The records and the access lines name the key used.
    const rows = await st.waitUsage(st.tokenId, 2);
    expect(rows.slice(-2).map((r) => r.upstream_key_id)).toEqual([azureId, azureId]);
    expect(
      accessLines(st)
        .slice(-2)
        .map((l) => l.upstream_key_id),
    ).toEqual([azureId, azureId]);
  });

  it('disabling that key and enabling the first moves the next request back, without a restart', async () => {
    await setEnabled(primaryId, true);
    await setEnabled(azureId, false);
    st.mock.reset();
    azure.reset();
    const res = await st.proxy('/v1/models');
    expect(res.status).toBe(200);
    expect(st.mock.requests()).toHaveLength(1);
    expect(azure.requests()).toHaveLength(0);
    expect((await st.recordOf(res)).upstream_key_id).toBe(primaryId);
  });

  it('with both keys enabled, requests are spread over both upstreams', async () => {
    await setEnabled(azureId, true);
    st.mock.reset();
    azure.reset();
    for (let i = 0; i < 40; i++) expect((await st.proxy('/v1/models')).status).toBe(200);
    // Equal weights and alike keys: the chance that 40 requests all pick one key is about 2 in 2^40.
    expect(st.mock.requests().length + azure.requests().length).toBe(40);
    expect(st.mock.requests().length).toBeGreaterThan(0);
    expect(azure.requests().length).toBeGreaterThan(0);
  });

  it('a rotated key is used from the next request on; the old one is never sent again', async () => {
    await setEnabled(primaryId, false);
    const rotated = 'azure-rotated-key-5b8d2c7e1f0a9b3c';
    registerSecret(rotated);
    const patch = await st.s.manage('PATCH', `/projects/${st.projectId}/keys/${azureId}`, { api_key: rotated });
    expect(patch.status).toBe(200);
    azure.reset();
    // The mock still wants the old key: the upstream's own 401 comes back, unchanged.
    const res = await st.proxy('/v1/models');
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    expect(azure.requests().map((r) => r.headers['api-key'])).toEqual([rotated]);
    expect(st.s.logs()).not.toContain(rotated);
    expect(st.s.logs()).not.toContain(AZURE_KEY);
  });
});

/**
 * Two servers on one PostgreSQL database: a key added and the first disabled through A reach B's
 * token cache through the change feed, although B cached the token before (its TTL is 10 minutes).
 */
describe('key changes reach every instance', () => {
  const set = serversOnPostgres({ env: { TOKEN_CACHE_TTL_MS: '600000' } });

  it('B sends with the new key once A has changed the pool', async (ctx) => {
    if (!set.up) return ctx.skip();
    const azure = await startMockUpstream({ apiKey: AZURE_KEY, authStyle: 'api-key' });
    try {
      const a = await set.start();
      const b = await set.start();
      const projectId = await newProject(a);
      const t = await newToken(a, projectId);
      expect((await chat(b, t.token)).status).toBe(200); // B caches the token with the project's one key
      const [primary] = (await a.manage('GET', `/projects/${projectId}/keys`)).body.data;
      const added = await a.manage('POST', `/projects/${projectId}/keys`, {
        name: 'azure',
        api_key: AZURE_KEY,
        base_url: azure.url,
        auth_style: 'api-key',
      });
      expect(added.status).toBe(201);
      expect((await a.manage('PATCH', `/projects/${projectId}/keys/${primary.id}`, { enabled: false })).status).toBe(
        200,
      );
      await eventually('B sends to the new key', async () => {
        expect((await chat(b, t.token)).status).toBe(200);
        return azure.requests().length > 0;
      });
      const before = set.mock.stats().requests;
      for (let i = 0; i < 5; i++) expect((await chat(b, t.token)).status).toBe(200);
      expect(set.mock.stats().requests).toBe(before);
    } finally {
      await azure.close();
    }
  });
});

/**
 * `llm-proxy rekey` re-encrypts every pool key, not only each project's first: after it, a server
 * that has only the new ENCRYPTION_KEY still sends with both keys.
 */
describe('key pools across an ENCRYPTION_KEY rotation', () => {
  it('rekey re-encrypts every key of the pool', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'llmp-test-key-pools-rekey-'));
    const [oldKey, newKey] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const openai = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const azure = await startMockUpstream({ apiKey: AZURE_KEY, authStyle: 'api-key' });
    const env = { DATA_DIR: dir, OPENAI_API_URL: openai.url, MAINTENANCE_INTERVAL_MS: '0' };
    try {
      const before = await startTestServer({ ...env, ENCRYPTION_KEY: oldKey });
      const project = await before.manage('POST', '/projects', { name: 'rotating', api_key: UPSTREAM_KEY });
      const pid = project.body.id;
      await before.manage('POST', `/projects/${pid}/keys`, {
        name: 'azure',
        api_key: AZURE_KEY,
        base_url: azure.url,
        auth_style: 'api-key',
      });
      const token = (await before.manage('POST', '/tokens', { project_id: pid })).body.token;
      await before.stop();

      const rotating = await startTestServer({ ...env, ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey });
      expect(await rotating.server.runtime.projects.rekey()).toBe(1);
      await rotating.stop();

      const after = await startTestServer({ ...env, ENCRYPTION_KEY: newKey });
      try {
        const client = new OpenAI({ baseURL: `${after.url}/v1`, apiKey: token, maxRetries: 0 });
        const [primary, second] = (await after.manage('GET', `/projects/${pid}/keys`)).body.data;
        for (const [off, on, mock] of [
          [primary.id, second.id, azure],
          [second.id, primary.id, openai],
        ] as const) {
          expect((await after.manage('PATCH', `/projects/${pid}/keys/${on}`, { enabled: true })).status).toBe(200);
          expect((await after.manage('PATCH', `/projects/${pid}/keys/${off}`, { enabled: false })).status).toBe(200);
          mock.reset();
          expect((await client.models.list()).data.length).toBeGreaterThan(0);
          expect(mock.requests()).toHaveLength(1);
        }
      } finally {
        await after.stop();
      }
    } finally {
      await openai.close();
      await azure.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

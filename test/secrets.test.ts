import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';

const UPSTREAM_KEY = 'sk-proj-UPSTREAMSECRET-9f8e7d6c5b4a3210';

describe('secrets never leak', () => {
  let s: TestServer;
  let token: string;
  const replies: string[] = [];

  beforeAll(async () => {
    s = await startTestServer({ LOG_LEVEL: 'trace' });
    const p = await s.manage('POST', '/projects', { name: 'secret', api_key: UPSTREAM_KEY });
    replies.push(JSON.stringify(p.body));
    const t = await s.manage('POST', '/tokens', { project_id: p.body.id, name: 'leak-check' });
    token = t.body.token;
    for (const route of ['/projects', `/projects/${p.body.id}`, '/tokens', `/tokens/${t.body.id}`]) {
      replies.push(JSON.stringify((await s.manage('GET', route)).body));
    }
    replies.push(JSON.stringify((await s.manage('PATCH', `/projects/${p.body.id}`, { api_key: UPSTREAM_KEY })).body));
    // A failing request that carries the token in a header must not log it either.
    await fetch(`${s.url}/manage/projects`, { headers: { authorization: `Bearer ${token}` } });
  });
  afterAll(async () => s.stop());

  it('keeps the upstream key and the token out of every API reply after creation', () => {
    for (const r of replies) {
      expect(r).not.toContain(UPSTREAM_KEY);
      expect(r).not.toContain(token);
    }
  });

  it('keeps them out of the database files (including the WAL)', async () => {
    const files = readdirSync(s.dataDir).filter((f) => f.startsWith('llm-proxy.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(path.join(s.dataDir, f));
      expect(bytes.includes(Buffer.from(UPSTREAM_KEY)), f).toBe(false);
      expect(bytes.includes(Buffer.from(token)), f).toBe(false);
      expect(bytes.includes(Buffer.from('UPSTREAMSECRET')), f).toBe(false);
    }
  });

  it('keeps them and the management token out of the logs', () => {
    const logs = s.logs();
    expect(logs.length).toBeGreaterThan(100);
    expect(logs).not.toContain(UPSTREAM_KEY);
    expect(logs).not.toContain('UPSTREAMSECRET');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(s.managementToken);
  });
});

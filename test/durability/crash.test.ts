import { readdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { ServeProcess } from '../helpers/cli.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { serveFixture } from '../helpers/serve-fixture.js';

/**
 * A process crash loses no admitted request's accounting. A real `llm-proxy serve` is killed with
 * SIGKILL while requests are in flight; the next start on the same data directory must count every
 * request that was let through against the token's cap, and hold a usage record for each.
 */
const MANAGEMENT_TOKEN = 'a-management-token-for-tests';
const CAP = 15;

/** Every server this file starts, killed after it, so a failing assertion leaves no process behind. */
const fx = serveFixture('llmp-crash-', MANAGEMENT_TOKEN, {
  // Records reach the store in batches of three (every third record starts a flush), never on the
  // timer: the six completed requests below are written before the crash (and the replay must not
  // count them again); the rest exist only in the journal.
  USAGE_BATCH_SIZE: '3',
  USAGE_FLUSH_INTERVAL_MS: '3600000',
});

const storedRecords = () => {
  const db = new SQLite(path.join(fx.dataDir, 'llm-proxy.db'), { readonly: true });
  try {
    return (db.prepare('select count(*) as n from usage_records').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

const manage = async (srv: ServeProcess, method: string, route: string, body?: unknown) => {
  const res = await fetch(`${srv.url}/manage${route}`, {
    method,
    headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

const chat = (srv: ServeProcess, token: string, extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count me' }],
      max_tokens: 20,
      ...extra,
    }),
  });

describe('a process killed with requests in flight (SIGKILL)', () => {
  it('counts every admitted request after the restart and records each, in-flight ones as unfinished', async () => {
    let srv = await fx.serve();
    const project = await manage(srv, 'POST', '/projects', { name: 'crash', api_key: UPSTREAM_KEY });
    // A budget makes the proxy estimate each request's cost: the unfinished ones are charged that.
    const token = await manage(srv, 'POST', '/tokens', {
      project_id: project.body.id,
      max_requests: CAP,
      budget_usd: 5,
    });
    expect(token.status).toBe(201);
    const { id: tokenId, token: secret } = token.body as { id: string; token: string };

    // Six that complete.
    const completed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await chat(srv, secret, {});
      expect(res.status).toBe(200);
      await res.json();
      completed.push(res.headers.get('x-llm-proxy-request-id') as string);
    }
    await until(() => storedRecords() === 6);
    // Four streams that got their 200 and first chunk, then are held open by the upstream.
    const held = { 'x-mock-chunks': '3', 'x-mock-chunk-delay-ms': '600000' };
    const streams = await Promise.all(Array.from({ length: 4 }, () => chat(srv, secret, { stream: true }, held)));
    for (const s of streams) expect(s.status).toBe(200);
    const streaming = streams.map((s) => s.headers.get('x-llm-proxy-request-id') as string);
    // One the upstream has received but not answered at all: the client never got a status.
    const before = fx.mock.stats().requests;
    const unanswered = chat(srv, secret, {}, { 'x-mock-latency-ms': '600000' }).catch(() => 'cut');
    await until(() => fx.mock.stats().requests === before + 1);
    expect(fx.mock.stats().activeStreams).toBe(4);

    srv.child.kill('SIGKILL');
    await srv.exited;
    expect(await unanswered).toBe('cut');
    for (const s of streams) await s.text().catch(() => 'cut');

    srv = await fx.serve();
    try {
      const admitted = completed.length + streaming.length + 1;
      const t = await manage(srv, 'GET', `/tokens/${tokenId}`);
      expect(t.body.request_count).toBe(admitted);
      expect(srv.stdout()).toMatch(/"records":11,"unfinished":5,"inserted":5,.*"msg":"usage journal replayed"/);

      const db = new SQLite(path.join(fx.dataDir, 'llm-proxy.db'), { readonly: true });
      const rows = db.prepare('select * from usage_records where token_id = ? order by id').all(tokenId) as any[];
      db.close();
      expect(rows).toHaveLength(admitted);
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of completed) {
        expect(byId.get(id)).toMatchObject({ status: 200, usage_status: 'reported', error: null });
        expect(byId.get(id).total_tokens).toBeGreaterThan(0);
      }
      const unfinished = rows.filter((r) => r.usage_status === 'unfinished');
      expect(unfinished).toHaveLength(5);
      expect(unfinished.map((r) => r.id)).toEqual(expect.arrayContaining(streaming));
      for (const r of unfinished) {
        expect(r).toMatchObject({
          status: 0,
          error: 'interrupted',
          path: '/v1/chat/completions',
          model: 'gpt-4o-mini',
        });
        expect(r.cost_nano_usd).toBeGreaterThan(0); // the reservation the budget held for it
      }
      // The journal was written to the store and removed.
      expect(readdirSync(path.join(fx.dataDir, 'journal')).filter((f) => f.startsWith('usage-')).length).toBe(1);

      // The cap holds exactly: what is left of it succeeds, then 429.
      const outcomes: number[] = [];
      for (let i = 0; i < CAP - admitted + 2; i++) {
        const res = await chat(srv, secret, {});
        outcomes.push(res.status);
        await res.text();
      }
      expect(outcomes).toEqual([...Array(CAP - admitted).fill(200), 429, 429]);
    } finally {
      srv.child.kill('SIGTERM');
      expect(await srv.exited).toBe(0);
    }
    // A clean stop leaves no journal behind: every record reached the store.
    expect(readdirSync(path.join(fx.dataDir, 'journal')).filter((f) => f.startsWith('usage-'))).toEqual([]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { burst, exactChat, tally } from './helpers.js';

/** A chat, and the chunks that make its actual cost equal its reservation, so budgets are exact. */
const { body: BODY, cost: COST, chunks: CHUNKS } = exactChat('gpt-4o-mini', 'survive a restart', 40);

let mock: MockUpstream;
let dataDir: string;
beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
  dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-restart-'));
});
afterAll(async () => {
  await mock.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const start = () => startTestServer({ OPENAI_API_URL: mock.url, DATA_DIR: dataDir, USAGE_FLUSH_INTERVAL_MS: '20' });
const send = (s: TestServer, token: string, n: number) =>
  burst(n, () =>
    fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-mock-chunks': String(CHUNKS),
      },
      body: BODY,
    }),
  );

describe('limits across a restart: the store seeds what memory forgot', () => {
  it('max_requests and budgets carry over exactly; rate windows start afresh', async () => {
    let s = await start();
    const project = await s.manage('POST', '/projects', { name: 'restart', api_key: UPSTREAM_KEY });
    const issue = async (limits: Record<string, unknown>) => {
      const r = await s.manage('POST', '/tokens', { project_id: project.body.id, ...limits });
      return r.body as { id: string; token: string };
    };
    const capped = await issue({ max_requests: 10 });
    const budgeted = await issue({ budget_usd: (7 * COST + Math.floor(COST / 2)) / 1e9 });
    const dayBudget = await issue({ budget_usd: (4 * COST + 1) / 1e9, budget_period: 'day' });
    const rated = await issue({ requests_per_minute: 5 });

    expect(tally(await send(s, capped.token, 6))).toEqual({ '200': 6 });
    expect(tally(await send(s, budgeted.token, 5))).toEqual({ '200': 5 });
    expect(tally(await send(s, dayBudget.token, 3))).toEqual({ '200': 3 });
    expect(tally(await send(s, rated.token, 8))).toEqual({ '200': 5, '429 rate_limit_exceeded': 3 });
    await s.stop(); // flushes every usage record before closing the store

    s = await start();
    try {
      expect(tally(await send(s, capped.token, 20))).toEqual({ '200': 4, '429 request_limit_reached': 16 });
      expect(tally(await send(s, budgeted.token, 20))).toEqual({ '200': 2, '429 budget_exceeded': 18 });
      expect(tally(await send(s, dayBudget.token, 20))).toEqual({ '200': 1, '429 budget_exceeded': 19 });
      // Rate windows live in memory only: a restart grants one fresh burst.
      expect(tally(await send(s, rated.token, 8))).toEqual({ '200': 5, '429 rate_limit_exceeded': 3 });
    } finally {
      await s.stop();
    }
  });
});

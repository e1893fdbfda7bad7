import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/crypto/ids.js';
import type { UsageStatus } from '../../src/store/usage-record.js';
import { TOTAL_COLUMNS } from '../../src/usage/usage-stats.js';
import type { UsageRecord } from '../../src/usage/usage-writer.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { apiTotals, DAY_MS, HOUR_MS, recomputeFromRecords } from '../helpers/usage-recompute.js';

const TOTAL_FIELDS: readonly string[] = TOTAL_COLUMNS;
const pickTotals = (o: Record<string, unknown>) => Object.fromEntries(TOTAL_FIELDS.map((f) => [f, o[f]]));

/** Runs `fn` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Parses the simple CSV the API writes (no quoted cells in these tests). */
function parseCsv(text: string): Array<Record<string, string>> {
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const cols = (header ?? '').split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

describe('usage API over real proxied traffic', () => {
  let st: ProxyStack;
  let second: { id: string; token: string };
  let other: { projectId: string; id: string; token: string };
  const sent = new Map<string, number>();
  /** Requests that used the model without a price (its failed requests used nothing: not unpriced). */
  let usedUnpriced = 0;

  beforeAll(async () => {
    st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '0' } });
    second = await st.issueToken({ name: 'second' });
    other = await st.addProject('other');
    const plan: Array<{ token: string; model: string; kind: 'chat' | 'stream' | 'embed' | 'fail' }> = [];
    const models = ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1-nano', 'my-local-llm'];
    for (let i = 0; i < 240; i++) {
      const token = i % 3 === 0 ? second.token : i % 7 === 0 ? other.token : st.token;
      const kind = i % 10 === 0 ? 'embed' : i % 11 === 0 ? 'fail' : i % 4 === 0 ? 'stream' : 'chat';
      const model = kind === 'embed' ? 'text-embedding-3-small' : (models[i % models.length] as string);
      plan.push({ token, model, kind });
    }
    await pool(plan, 16, async ({ token, model, kind }) => {
      const client = st.clientFor(token);
      sent.set(model, (sent.get(model) ?? 0) + 1);
      if (model === 'my-local-llm' && kind !== 'fail') usedUnpriced++;
      const messages = [{ role: 'user' as const, content: `hello ${model}` }];
      if (kind === 'embed') await client.embeddings.create({ model, input: 'some text to embed' });
      else if (kind === 'stream') {
        const stream = await client.chat.completions.create({ model, messages, stream: true });
        for await (const _ of stream);
      } else if (kind === 'fail') {
        await client.chat.completions
          .create({ model, messages }, { headers: { 'x-mock-status': '500' } })
          .catch(() => undefined);
      } else await client.chat.completions.create({ model, messages });
    });
    // Usage is written after the responses: wait for all 240 records (as long as that takes).
    await until(async () => {
      await st.s.server.runtime.usage.flush();
      const n = await st.s.server.runtime.db
        .selectFrom('usage_records')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(n.n) >= 240;
    });
  });
  afterAll(async () => st?.stop());

  const usage = async (query: string) => {
    const res = await st.s.manage('GET', `/usage${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('totals equal the raw records, and requests per model equal what was sent', async () => {
    const db = st.s.server.runtime.db;
    const all = await usage('');
    const raw = (await recomputeFromRecords(db, {})).get('') as Record<string, number>;
    expect(all.totals).toEqual(apiTotals(raw));
    expect(all.totals.requests).toBe(240);
    expect(all.totals.errors).toBeGreaterThan(0);
    // my-local-llm has no price; failed requests (to it or any model) used nothing and are not unpriced.
    expect(all.totals.unpriced_requests).toBe(usedUnpriced);
    expect(all.totals.cost_nano_usd).toBeGreaterThan(0);
    expect(all.group_by).toBeNull();
    expect(all.data).toHaveLength(1);
    expect(pickTotals(all.data[0])).toEqual(all.totals);

    const byModel = await usage('?group_by=model');
    expect(
      Object.fromEntries(byModel.data.map((g: { model: string; requests: number }) => [g.model, g.requests])),
    ).toEqual(Object.fromEntries(sent));
    const unpriced = byModel.data.find((g: { model: string }) => g.model === 'my-local-llm');
    expect(unpriced.unpriced_requests).toBe(usedUnpriced);
    expect(unpriced.requests).toBeGreaterThan(usedUnpriced); // some of them failed
    expect(unpriced.cost_nano_usd).toBe(0);
  });

  it('each group_by returns the sums of the raw records per group', async () => {
    const db = st.s.server.runtime.db;
    const keyOf: Record<string, (g: Record<string, unknown>) => string> = {
      hour: (g) => String(Date.parse(g.hour as string)),
      day: (g) => String(Date.parse(`${g.day}T00:00:00Z`)),
      model: (g) => String(g.model ?? ''),
      token: (g) => String(g.token_id),
      project: (g) => String(g.project_id),
    };
    for (const group of ['hour', 'day', 'model', 'token', 'project'] as const) {
      const report = await usage(`?group_by=${group}`);
      expect(report.group_by).toBe(group);
      const expected = await recomputeFromRecords(db, {}, group);
      expect(report.data).toHaveLength(expected.size);
      for (const g of report.data) {
        expect(pickTotals(g), `${group} ${keyOf[group]?.(g)}`).toEqual(
          apiTotals(expected.get(keyOf[group]?.(g) ?? '') ?? {}),
        );
        expect(g.latency_ms.p50).toBeGreaterThan(0);
      }
      // Group totals add up to the overall totals.
      expect(report.data.reduce((a: number, g: { requests: number }) => a + g.requests, 0)).toBe(240);
    }
    const byToken = await usage('?group_by=token');
    const names = Object.fromEntries(
      byToken.data.map((g: { token_id: string; token_name: string }) => [g.token_id, g]),
    );
    expect(names[second.id]).toMatchObject({ token_name: 'second', project_id: st.projectId, project_name: 'main' });
    expect(names[other.id]).toMatchObject({ project_id: other.projectId, project_name: 'other' });
    const byProject = await usage('?group_by=project');
    expect(byProject.data.map((g: { project_name: string }) => g.project_name).sort()).toEqual(['main', 'other']);
  });

  it('filters by project, token, model and time window', async () => {
    const db = st.s.server.runtime.db;
    const cases: Array<[string, Parameters<typeof recomputeFromRecords>[1]]> = [
      [`?project_id=${other.projectId}`, { projectId: other.projectId }],
      [`?token_id=${second.id}`, { tokenId: second.id }],
      ['?model=gpt-4o', { model: 'gpt-4o' }],
      [`?project_id=${st.projectId}&model=gpt-4o-mini`, { projectId: st.projectId, model: 'gpt-4o-mini' }],
    ];
    for (const [query, filter] of cases) {
      const report = await usage(query);
      expect(report.totals, query).toEqual(apiTotals((await recomputeFromRecords(db, filter)).get('') ?? {}));
      expect(report.totals.requests).toBeGreaterThan(0);
    }
    expect((await usage('?project_id=no-such-project')).totals.requests).toBe(0);

    // Rollups are hourly: from rounds down, to rounds up (exclusive).
    const first = await db
      .selectFrom('usage_records')
      .select((eb) => eb.fn.min<number>('created_at').as('at'))
      .executeTakeFirstOrThrow();
    const at = Number(first.at);
    const hour = at - (at % HOUR_MS);
    const inWindow = await usage(`?from=${at}&to=${new Date(at + 1).toISOString()}`);
    expect(inWindow.from).toBe(new Date(hour).toISOString());
    expect(inWindow.to).toBe(new Date(hour + HOUR_MS).toISOString());
    const expectedHour = (await recomputeFromRecords(db, { from: hour, to: hour + HOUR_MS })).get('');
    expect(inWindow.totals).toEqual(apiTotals(expectedHour ?? {}));
    expect(inWindow.totals.requests).toBeGreaterThan(0);
    const later = await usage(`?from=${hour + HOUR_MS}`);
    expect(later.totals.requests).toBe(240 - inWindow.totals.requests);
    expect((await usage(`?to=${new Date(hour).toISOString()}`)).totals.requests).toBe(0);
    const dayStart = at - (at % DAY_MS);
    const byDay = await usage(`?group_by=day&from=${new Date(dayStart).toISOString()}`);
    expect(byDay.data[0]).toMatchObject({ day: new Date(dayStart).toISOString().slice(0, 10) });
    expect(byDay.totals.requests).toBe(240);
  });

  it('answers latency percentiles from the merged histogram', async () => {
    const { latency_ms } = await usage('');
    expect(latency_ms.p50).toBeGreaterThan(0);
    expect(latency_ms.p90).toBeGreaterThanOrEqual(latency_ms.p50);
    expect(latency_ms.p99).toBeGreaterThanOrEqual(latency_ms.p90);
    expect(await usage('?model=none-such')).toMatchObject({
      data: [],
      latency_ms: { p50: null, p90: null, p99: null },
      totals: { requests: 0, cost_usd: '0.000000000', avg_duration_ms: null },
    });
  });

  it('exports CSV with Accept: text/csv or format=csv: a header and the same numbers', async () => {
    const json = await usage('?group_by=model');
    const inits: Array<{ url: string; headers: Record<string, string> }> = [
      { url: '/manage/usage?group_by=model', headers: { accept: 'text/csv' } },
      { url: '/manage/usage?group_by=model&format=csv', headers: {} },
    ];
    for (const init of inits) {
      const res = await fetch(`${st.url}${init.url}`, {
        headers: { authorization: `Bearer ${st.s.managementToken}`, ...init.headers },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const text = await res.text();
      expect(text.split('\r\n')[0]).toBe(
        'model,requests,errors,prompt_tokens,completion_tokens,total_tokens,cached_tokens,reasoning_tokens,cost_usd,' +
          'cost_micro_usd,unpriced_requests,estimated_requests,avg_duration_ms,bytes_in,bytes_out,cost_nano_usd,' +
          'latency_p50_ms,latency_p90_ms,latency_p99_ms',
      );
      const rows = parseCsv(text);
      expect(rows).toHaveLength(json.data.length);
      for (const [i, row] of rows.entries()) {
        const g = json.data[i];
        expect(row.model).toBe(g.model);
        for (const f of TOTAL_FIELDS) expect(row[f], f).toBe(String(g[f]));
        expect(row.latency_p99_ms).toBe(String(g.latency_ms.p99));
      }
    }
    // format=json wins over the Accept header.
    const res = await fetch(`${st.url}/manage/usage?format=json`, {
      headers: { authorization: `Bearer ${st.s.managementToken}`, accept: 'text/csv' },
    });
    expect(res.headers.get('content-type')).toMatch(/json/);
  });

  it('shows lifetime usage on GET token and project (equal to the usage API), not on lists', async () => {
    for (const [route, query] of [
      [`/tokens/${second.id}`, `?token_id=${second.id}`],
      [`/tokens/${st.tokenId}`, `?token_id=${st.tokenId}`],
      [`/projects/${st.projectId}`, `?project_id=${st.projectId}`],
      [`/projects/${other.projectId}`, `?project_id=${other.projectId}`],
    ] as const) {
      const got = await st.s.manage('GET', route);
      expect(got.status).toBe(200);
      expect(got.body.usage).toEqual((await usage(query)).totals);
      expect(got.body.usage.requests).toBeGreaterThan(0);
    }
    const fresh = await st.issueToken();
    expect((await st.s.manage('GET', `/tokens/${fresh.id}`)).body.usage).toMatchObject({
      requests: 0,
      cost_usd: '0.000000000',
    });
    expect((await st.s.manage('GET', '/tokens')).body.data[0].usage).toBeUndefined();
    expect((await st.s.manage('GET', '/projects')).body.data[0].usage).toBeUndefined();
  });

  it('validates the query', async () => {
    const cases: Array<[string, string]> = [
      ['?group_by=week', 'group_by'],
      ['?from=yesterday', 'from'],
      ['?to=2026-13-45T00:00:00Z', 'to'],
      ['?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to'],
      ['?from=1000&to=1000', 'to'],
      ['?format=xml', 'format'],
    ];
    for (const [query, param] of cases) {
      const res = await st.s.manage('GET', `/usage${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.param, query).toBe(param);
    }
    const unauth = await fetch(`${st.url}/manage/usage`);
    expect(unauth.status).toBe(401);
  });
});

describe('rollups after thousands of random requests equal a recomputation from raw records', () => {
  let s: TestServer;
  let tokenIds: string[];
  let projectIds: string[];
  const now = Date.now();
  const start = now - (now % HOUR_MS) - 5 * DAY_MS;

  beforeAll(async () => {
    s = await startTestServer({ MAINTENANCE_INTERVAL_MS: '0', USAGE_BATCH_SIZE: '250' });
    projectIds = [];
    tokenIds = [];
    for (const name of ['rand-a', 'rand-b']) {
      const p = (await s.manage('POST', '/projects', { name, api_key: 'sk-x' })).body.id;
      projectIds.push(p);
      for (let i = 0; i < 3; i++)
        tokenIds.push((await s.manage('POST', '/tokens', { project_id: p, name: `${name}-${i}` })).body.id);
    }
    let seed = 7;
    const rand = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
    const models = ['gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-mini', 'o3', 'my-llm', null];
    const ghost = uuidv7(); // a token that was deleted: its usage still counts
    // Through the real writer: runtime.usage.record → batches → worker thread → UsageRepo.writeBatch.
    for (let i = 0; i < 5000; i++) {
      const t = Math.floor(rand() * (tokenIds.length + 1));
      const tokenId = t === tokenIds.length ? ghost : (tokenIds[t] as string);
      const projectId = (t < 3 ? projectIds[0] : projectIds[1]) as string;
      const status = rand() < 0.08 ? pick([400, 401, 429, 500, 503]) : 200;
      const usageStatus: UsageStatus =
        status === 200 ? pick(['reported', 'reported', 'estimated', 'missing'] as const) : 'missing';
      const prompt = usageStatus === 'missing' ? null : Math.floor(rand() * 8000);
      const completion = usageStatus === 'missing' ? null : Math.floor(rand() * 1500);
      const model = pick(models);
      const rec: UsageRecord = {
        id: uuidv7(),
        tokenId: tokenId,
        projectId: projectId,
        method: 'POST',
        path: pick(['/v1/chat/completions', '/v1/responses', '/v1/embeddings']),
        model,
        status,
        stream: i % 2 === 1,
        promptTokens: prompt,
        completionTokens: completion,
        totalTokens: prompt === null ? null : prompt + (completion ?? 0),
        cachedTokens: prompt === null ? null : Math.floor(prompt * rand() * 0.3),
        reasoningTokens: model === 'o3' && completion !== null ? Math.floor(completion * rand()) : null,
        finishReason: null,
        upstreamMs: rand() * 900,
        ttfbMs: rand() * 200,
        durationMs: rand() * rand() * 20_000,
        bytesIn: Math.floor(rand() * 20_000),
        bytesOut: Math.floor(rand() * 80_000),
        error: status === 200 && rand() < 0.03 ? 'stream cut' : null,
        costNanoUsd:
          model === 'my-llm' || model === null || usageStatus === 'missing' ? null : Math.floor(rand() * 250_000),
        usageStatus,
        createdAt: start + Math.floor(rand() * 5 * DAY_MS),
        upstreamKeyId: null,
        retries: 0,
        servedFrom: null,
        serviceTier: null,
        billedUnits: null,
        upstreamRequestId: null,
      };
      s.server.runtime.usage.record(rec);
    }
    await s.server.runtime.usage.flush();
    expect(s.server.runtime.usage.pending).toBe(0);
  });
  afterAll(async () => s?.stop());

  const usage = async (query: string) => {
    const res = await s.manage('GET', `/usage${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('for every group_by and filter, the API equals a SQL group-by over usage_records', async () => {
    const db = s.server.runtime.db;
    const keyOf: Record<string, (g: Record<string, unknown>) => string> = {
      none: () => '',
      hour: (g) => String(Date.parse(g.hour as string)),
      day: (g) => String(Date.parse(`${g.day}T00:00:00Z`)),
      model: (g) => String(g.model ?? ''),
      token: (g) => String(g.token_id),
      project: (g) => String(g.project_id),
    };
    const from = start + 30 * HOUR_MS;
    const to = start + 80 * HOUR_MS;
    const filters: Array<[string, Parameters<typeof recomputeFromRecords>[1]]> = [
      ['', {}],
      [`project_id=${projectIds[1]}`, { projectId: projectIds[1] }],
      [`token_id=${tokenIds[2]}`, { tokenId: tokenIds[2] }],
      ['model=gpt-4o', { model: 'gpt-4o' }],
      [`from=${new Date(from).toISOString()}&to=${to}`, { from, to }],
      [`project_id=${projectIds[0]}&model=o3&from=${from}`, { projectId: projectIds[0], model: 'o3', from }],
    ];
    let compared = 0;
    for (const [query, filter] of filters) {
      for (const group of ['none', 'hour', 'day', 'model', 'token', 'project'] as const) {
        const report = await usage(`?${query}${group === 'none' ? '' : `&group_by=${group}`}`);
        const expected = await recomputeFromRecords(db, filter, group === 'none' ? undefined : group);
        expect(report.data.length, `${query} ${group}`).toBe(expected.size);
        for (const g of report.data) {
          const k = keyOf[group]?.(g) ?? '';
          expect(pickTotals(g), `${query} ${group} ${k}`).toEqual(apiTotals(expected.get(k) ?? {}));
          compared++;
        }
        const all = (await recomputeFromRecords(db, filter)).get('');
        if (all) expect(report.totals).toEqual(apiTotals(all));
      }
    }
    expect(compared).toBeGreaterThan(500);
    expect((await usage('')).totals.requests).toBe(5000);
    // Every hour of the five days has traffic; day groups are UTC days (5 or 6 of them).
    expect((await usage('?group_by=hour')).data).toHaveLength(120);
    expect((await usage('?group_by=day')).data.length).toBeGreaterThanOrEqual(5);
  });

  it('the token and project views show the same lifetime totals as the API', async () => {
    for (const id of tokenIds) {
      expect((await s.manage('GET', `/tokens/${id}`)).body.usage).toEqual((await usage(`?token_id=${id}`)).totals);
    }
    for (const id of projectIds) {
      expect((await s.manage('GET', `/projects/${id}`)).body.usage).toEqual((await usage(`?project_id=${id}`)).totals);
    }
  });

  it('answers from the rollups alone: deleting every raw record changes nothing', async () => {
    const before = await usage('?group_by=day');
    await s.server.runtime.db.deleteFrom('usage_records').execute();
    expect(await usage('?group_by=day')).toEqual(before);
  });
});

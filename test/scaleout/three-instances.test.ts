import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_HEADERS } from '../../src/mock-upstream/options.js';
import { type Cluster, type Instance, startInstances } from '../helpers/instances.js';
import {
  type Answer,
  answer,
  BUDGET_STREAM,
  budgetStreamEstimate,
  chat,
  eventually,
  tally,
} from '../helpers/scaleout.js';

/**
 * Issue #20's acceptance: three proxy instances sharing one PostgreSQL database and one Redis hold
 * every limit as one instance would. Each test sends its burst round-robin across the three, with
 * the official client against the mock upstream, and checks the answers, the usage records in the
 * database and the counters in Redis.
 */

describe('three instances sharing PostgreSQL and Redis', () => {
  let c: Cluster | undefined;

  beforeAll(async () => {
    // Every refusal here is a limit's: no share of the upstream's connections per token (a burst
    // of 500 held long on a loaded machine would otherwise meet it first, with 429 of its own).
    c = await startInstances(3, { env: { UPSTREAM_SHARE_PERCENT: '100' } });
  });
  afterAll(() => c?.stop());

  /** The in-process instance's view of a subject's counters in Redis. */
  const redisState = (cl: Cluster, kind: 'token' | 'project', id: string, projectId: string) =>
    cl.instances[0]?.server?.server.runtime.limiter.inspect(kind, id, projectId);

  it('max_requests 100 hit by 500 concurrent requests lets exactly 100 through', async (ctx) => {
    if (!c) return ctx.skip();
    const cl = c;
    const t = await cl.issue({ max_requests: 100 });
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => chat(cl.at(i), t.token)));
    expect(tally(answers)).toEqual({ ok: 100, refused: 400, codes: ['request_limit_reached'], other: [] });

    // Every instance let some through: the cap is shared, not one instance's.
    await eventually('the usage records', async () => (await cl.records(t.id)).length >= 100);
    expect((await cl.records(t.id)).length).toBe(100);
    expect((await cl.manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(100);
    expect((await redisState(cl, 'token', t.id, t.projectId))?.requests).toBe(100);
  });

  it('requests_per_minute holds across instances within one window', async (ctx) => {
    if (!c) return ctx.skip();
    const cl = c;
    const rpm = 20;
    const t = await cl.issue({ requests_per_minute: rpm });
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => chat(cl.at(i), t.token)));
    const elapsed = performance.now() - started;
    const got = tally(answers);
    // A window of N admits a burst of N, then one more every 60 s / N (GCRA): however slow the
    // machine, no more than that. Each instance on its own would have let 3 × 20 through.
    const refill = Math.floor((elapsed * rpm) / 60_000);
    expect(got.ok).toBeGreaterThanOrEqual(rpm);
    expect(got.ok).toBeLessThanOrEqual(rpm + refill);
    expect(got).toMatchObject({ refused: 90 - got.ok, codes: ['rate_limit_exceeded'], other: [] });
  });

  it('tokens_per_minute holds across instances within one window', async (ctx) => {
    if (!c) return ctx.skip();
    const cl = c;
    const tpm = 600;
    const t = await cl.issue({ tokens_per_minute: tpm });
    const started = performance.now();
    // Each reserves its prompt estimate plus max_tokens (about 75), then settles what it used
    // (about 45: the mock answers 40 tokens).
    const answers = await Promise.all(
      Array.from({ length: 90 }, (_, i) =>
        chat(cl.at(i), t.token, { [MOCK_HEADERS.chunks]: '40' }, { max_tokens: 50 }),
      ),
    );
    const elapsed = performance.now() - started;
    const got = tally(answers);
    expect(got.other).toEqual([]);
    expect(got.codes).toEqual(['tokens_rate_limit_exceeded']);
    await eventually('the usage records', async () => (await cl.records(t.id)).length >= got.ok);
    const rows = await cl.records(t.id);
    expect(rows.length).toBe(got.ok);
    // What they used fits in one window's allowance (plus what refilled while the burst ran);
    // three instances each with its own window would have used up to three times that.
    const used = rows.reduce((sum, r) => sum + (r.total_tokens ?? 0), 0);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(tpm + Math.ceil((elapsed * tpm) / 60_000));
    expect(got.ok).toBeLessThan(90);
  });

  it('a budget of a few cents hit by concurrent streams is never overspent by more than one estimate', async (ctx) => {
    if (!c) return ctx.skip();
    const cl = c;
    const budgetNano = 30_000_000; // 3 cents
    const t = await cl.issue({ budget_usd: budgetNano / 1e9 });
    const body = BUDGET_STREAM;
    const estimate = budgetStreamEstimate();
    const stream = async (inst: Instance) => {
      const s = await cl.client(inst, t.token, { [MOCK_HEADERS.chunks]: '400' }).chat.completions.create(body);
      let usage = 0;
      for await (const chunk of s) if (chunk.usage) usage = chunk.usage.total_tokens;
      expect(usage).toBeGreaterThan(400);
    };
    // Rounds of six concurrent streams, two per instance, until a round gets no stream through.
    const answers: Answer[] = [];
    for (let round = 0; ; round++) {
      // Settlements go to Redis after the response: a round starts once the last one's are in.
      await eventually(
        'the last round settled',
        async () => ((await redisState(cl, 'token', t.id, t.projectId))?.budgets.total?.reservedNanoUsd ?? 0) === 0,
      );
      const wave = await Promise.all(Array.from({ length: 6 }, (_, i) => answer(() => stream(cl.at(i)))));
      answers.push(...wave);
      if (wave.every((a) => a.status !== 200)) break;
      expect(round).toBeLessThan(30);
    }
    const got = tally(answers);
    expect(got).toMatchObject({ codes: ['budget_exceeded'], other: [] });
    expect(got.ok).toBeGreaterThan(0);

    await eventually('the usage records', async () => (await cl.records(t.id)).length >= got.ok);
    const rows = await cl.records(t.id);
    expect(rows.length).toBe(got.ok);
    expect(rows.every((r) => r.status === 200 && r.usage_status === 'reported')).toBe(true);
    const spent = rows.reduce((sum, r) => sum + (r.cost_nano_usd ?? 0), 0);
    // Never more than one estimate over (three instances with a budget each would spend three
    // times it); and once nothing more gets through, less than one estimate is left.
    expect(spent).toBeLessThanOrEqual(budgetNano + estimate);
    expect(spent).toBeGreaterThan(budgetNano - estimate);

    // Redis settled exactly what the records say, and holds no reservation any more.
    await eventually('no reservation left', async () => {
      const s = await redisState(cl, 'token', t.id, t.projectId);
      return s?.budgets.total?.reservedNanoUsd === 0;
    });
    const s = await redisState(cl, 'token', t.id, t.projectId);
    expect(s?.budgets.total?.spentNanoUsd).toBe(spent);
  });
});

describe('three instances, PostgreSQL unreachable mid-run', () => {
  let c: Cluster | undefined;

  beforeAll(async () => {
    c = await startInstances(3, {
      cuttable: true,
      env: {
        // A refused database fails at once; these bound a connection the forwarder holds.
        DATABASE_QUERY_TIMEOUT_MS: '1000',
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        // Fewer than each instance serves during the outage: most of its records leave memory.
        USAGE_QUEUE_LIMIT: '3',
      },
    });
  });
  afterAll(() => c?.stop());

  it('serves cached tokens, answers 503 for unknown ones, and writes every record once it returns', async (ctx) => {
    if (!c?.fwd) return ctx.skip();
    const cl = c;
    const fwd = c.fwd;
    const t = await cl.issue({ max_requests: 1000 });
    const unknown = await cl.issue();
    const ids: string[] = [];
    const send = async (inst: Instance, token: string) => {
      const { response } = await cl
        .client(inst, token)
        .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      ids.push(response.headers.get('x-llm-proxy-request-id') as string);
    };
    // Each instance caches the token with a first request.
    for (const inst of cl.instances) await send(inst, t.token);
    const writers = cl.instances.map((i) => i.server?.server.runtime.usage);
    await eventually('the first records written', () => writers.every((w) => w?.pending === 0 && w.written === 1));

    fwd.refuse();
    // 30 requests, 10 per instance: each holds 3 in memory, the journal the rest.
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(cl.at(i), t.token)));
    for (const inst of cl.instances) {
      // A token this instance never saw cannot be checked: 503, never 401.
      const refused = await answer(() => cl.client(inst, unknown.token).models.list());
      expect(refused).toEqual({ status: 503, code: 'store_unavailable', retryAfter: '1' });
    }
    await eventually('10 records each, most out of memory', () =>
      writers.every((w) => w !== undefined && w.pending + w.dropped === 10),
    );
    expect(writers.map((w) => w?.health().spilled)).toEqual([7, 7, 7]);

    fwd.resume();
    await eventually('every record written', () => writers.every((w) => w?.pending === 0 && w.health().spilled === 0));
    // Every request has exactly one record: none lost, none written twice.
    const rows = await cl.query<{ id: string; n: string }>(
      'SELECT id, count(*) AS n FROM usage_records WHERE token_id = $1 GROUP BY id',
      [t.id],
    );
    const counts = new Map(rows.map((r) => [r.id, Number(r.n)]));
    expect(ids.map((id) => counts.get(id) ?? 0)).toEqual(Array(33).fill(1));
    expect(rows.length).toBe(33);
    expect((await cl.manage('GET', `/tokens/${t.id}`)).body.request_count).toBe(33);
    // The limit counted all of them, database or not.
    expect((await cl.instances[0]?.server?.server.runtime.limiter.inspect('token', t.id, t.projectId))?.requests).toBe(
      33,
    );
  });
});

import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ManualClock, manualClock } from '../helpers/clock.js';
import { metrics, outcome } from '../helpers/outcome.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';

const ask = (client: OpenAI, fault?: number) =>
  client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
    fault ? { headers: { 'x-mock-status': String(fault) } } : {},
  );

/** A second key of the project on the same upstream: two keys that fail alike when asked to. */
async function addTwin(st: ProxyStack, projectId: string, baseUrl = `${st.mock.url}/v1`): Promise<void> {
  const res = await st.s.manage('POST', `/projects/${projectId}/keys`, {
    name: 'twin',
    api_key: UPSTREAM_KEY,
    base_url: baseUrl,
  });
  expect(res.status).toBe(201);
}

const health = async (st: ProxyStack) =>
  ((await (await fetch(`${st.url}/health`)).json()) as { upstream_keys: unknown }).upstream_keys;

/**
 * Two keys on one upstream, the server's clock in the test's hands: a failing key is skipped for
 * its cooldown (the upstream's retry-after, else the default doubling), tried once when it ends,
 * and back in service after a success. With both cooling and no wait allowed, 503 with Retry-After.
 */
describe('key cooldowns', () => {
  let st: ProxyStack;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = manualClock();
    st = await startProxyStack({
      clock: clock.now,
      env: {
        UPSTREAM_COOLDOWN_MS: '5000',
        UPSTREAM_COOLDOWN_MAX_MS: '60000',
        UPSTREAM_COOLDOWN_WAIT_MS: '0',
        // Cooldowns alone: a failed request is not retried on the other key (test/resilience/retries.test.ts).
        UPSTREAM_RETRY_MAX_ATTEMPTS: '1',
      },
    });
    await addTwin(st, st.projectId);
  });
  afterAll(async () => {
    await st?.stop();
  });

  it('skips a key that answered 5xx for the default time, extends it when its trial fails, closes it on success', async () => {
    st.mock.reset();
    // The first failure cools one key, so the second request can only go to the other.
    expect(await outcome(ask(st.client, 500))).toMatchObject({ status: 500 });
    expect(await outcome(ask(st.client, 500))).toMatchObject({ status: 500 });
    // Both cooling for 5 s: nothing reaches the upstream, the client is told when to come back.
    expect(await outcome(ask(st.client))).toEqual({
      status: 503,
      code: 'upstream_cooling_down',
      retryAfter: '5',
      shouldRetry: 'true',
    });
    expect(st.mock.stats().requests).toBe(2);
    expect(await health(st)).toEqual({ cooling: 2, half_open: 0 });
    expect(await metrics(st)).toContain('llm_proxy_upstream_keys_cooling{state="cooling"} 2');
    // The keys API shows each key's cooldown: for every model (the body was not read), and until when.
    const until = new Date(clock.now() + 5000).toISOString();
    const keys = (await st.s.manage('GET', `/projects/${st.projectId}/keys`)).body.data;
    expect(keys.map((k: { cooldowns: unknown }) => k.cooldowns)).toEqual([
      [{ model: null, state: 'cooling', until }],
      [{ model: null, state: 'cooling', until }],
    ]);

    clock.advance(5000); // half-open: one trial each, which fail: 10 s now
    expect(await health(st)).toEqual({ cooling: 0, half_open: 2 });
    expect(await outcome(ask(st.client, 502))).toMatchObject({ status: 502 });
    expect(await outcome(ask(st.client, 502))).toMatchObject({ status: 502 });
    expect(st.mock.stats().requests).toBe(4);
    clock.advance(5000);
    expect(await outcome(ask(st.client))).toMatchObject({ status: 503, retryAfter: '5' });
    expect(st.mock.stats().requests).toBe(4);

    clock.advance(5000); // the trials succeed: both keys serve again
    for (let i = 0; i < 4; i++) expect(await outcome(ask(st.client))).toEqual({ status: 200 });
    expect(st.mock.stats().requests).toBe(8);
    expect(await health(st)).toEqual({ cooling: 0, half_open: 0 });
    const healed = (await st.s.manage('GET', `/projects/${st.projectId}/keys`)).body.data;
    expect(healed.map((k: { cooldowns: unknown }) => k.cooldowns)).toEqual([[], []]);
  });

  it("takes the upstream's retry-after for a 429, and a 4xx of the request's own cools nothing", async () => {
    st.mock.reset();
    for (let i = 0; i < 3; i++) expect(await outcome(ask(st.client, 400))).toMatchObject({ status: 400 });
    expect(await health(st)).toEqual({ cooling: 0, half_open: 0 });
    expect(await outcome(ask(st.client, 429))).toMatchObject({ status: 429 });
    expect(await outcome(ask(st.client, 429))).toMatchObject({ status: 429 });
    // The mock's 429 says retry-after: 1, which wins over the 5 s default.
    expect(await outcome(ask(st.client))).toMatchObject({ status: 503, retryAfter: '1' });
    clock.advance(1000);
    expect(await outcome(ask(st.client))).toEqual({ status: 200 });
    expect(st.mock.stats().requests).toBe(6);
  });

  it('cools keys that cannot be reached', async () => {
    clock.advance(120_000); // what the tests above left half-open is forgotten
    const gone = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    const project = await st.addProject('unreachable', `${gone.url}/v1`);
    await addTwin(st, project.projectId, `${gone.url}/v1`);
    await gone.close();
    const client = st.clientFor(project.token);
    expect(await outcome(ask(client))).toMatchObject({ status: 502, code: 'upstream_unavailable' });
    expect(await outcome(ask(client))).toMatchObject({ status: 502, code: 'upstream_unavailable' });
    expect(await outcome(ask(client))).toMatchObject({ status: 503, code: 'upstream_cooling_down', retryAfter: '5' });
  });

  it('never cools the only key of a project: the upstream answers every request', async () => {
    const single = await st.addProject('single');
    const client = st.clientFor(single.token);
    st.mock.reset();
    expect(await outcome(ask(client, 500))).toMatchObject({ status: 500 });
    expect(await outcome(ask(client, 429))).toMatchObject({ status: 429 });
    expect(await outcome(ask(client))).toEqual({ status: 200 });
    expect(st.mock.stats().requests).toBe(3);
  });
});

/**
 * Two keys, one on an upstream that answers every request with 429: after its first 429 the
 * project's requests all go to the healthy key while it cools, and the failing upstream is not
 * called again until the cooldown ends.
 */
describe('a pool with one failing key', () => {
  let st: ProxyStack;
  let failing: MockUpstream;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = manualClock();
    // Without retries, so the failing key's 429 reaches the client (with them it is failed over).
    st = await startProxyStack({
      clock: clock.now,
      env: { UPSTREAM_COOLDOWN_WAIT_MS: '0', UPSTREAM_RETRY_MAX_ATTEMPTS: '1' },
    });
    failing = await startMockUpstream({ apiKey: 'sk-failing-key', errorStatus: 429 });
    const added = await st.s.manage('POST', `/projects/${st.projectId}/keys`, {
      name: 'failing',
      api_key: 'sk-failing-key',
      base_url: `${failing.url}/v1`,
    });
    expect(added.status).toBe(201);
  });
  afterAll(async () => {
    await st?.stop();
    await failing?.close();
  });

  it('sends to the healthy key while the other cools, and tries the other once when it ends', async () => {
    const results = [];
    for (let i = 0; i < 30; i++) results.push(await outcome(ask(st.client)));
    // Equal weights: the chance that 30 requests never pick the failing key is 1 in 2^30.
    expect(failing.stats().requests).toBe(1);
    expect(results.filter((r) => r.status !== 200)).toEqual([expect.objectContaining({ status: 429 })]);
    expect(st.mock.stats().requests).toBe(29);

    clock.advance(1000); // the mock's retry-after: 1
    for (let i = 0; i < 30; i++) await outcome(ask(st.client));
    expect(failing.stats().requests).toBe(2);
  });
});

/** With the real clock: a request that finds every key cooling waits for the first to recover. */
describe('the wait for a cooling key', () => {
  it('waits for a key instead of failing, and the request goes through', async () => {
    const st = await startProxyStack({ env: { UPSTREAM_COOLDOWN_MS: '300', UPSTREAM_COOLDOWN_WAIT_MS: '60000' } });
    try {
      await addTwin(st, st.projectId);
      expect(await outcome(ask(st.client, 500))).toMatchObject({ status: 500 });
      expect(await outcome(ask(st.client, 500))).toMatchObject({ status: 500 });
      expect(await outcome(ask(st.client))).toEqual({ status: 200 });
      expect(st.mock.stats().requests).toBe(3);
    } finally {
      await st.stop();
    }
  });

  it('answers 503 at once when no key can recover within the wait', async () => {
    // A cooldown (30 s: the mock's 503 gives no time) longer than the wait (100 ms).
    const st = await startProxyStack({ env: { UPSTREAM_COOLDOWN_MS: '30000', UPSTREAM_COOLDOWN_WAIT_MS: '100' } });
    try {
      await addTwin(st, st.projectId);
      expect(await outcome(ask(st.client, 503))).toMatchObject({ status: 503 });
      expect(await outcome(ask(st.client, 503))).toMatchObject({ status: 503 });
      expect(await outcome(ask(st.client))).toMatchObject({
        status: 503,
        code: 'upstream_cooling_down',
        retryAfter: '30',
      });
      expect(st.mock.stats().requests).toBe(2);
    } finally {
      await st.stop();
    }
  });
});

import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type ManualClock, manualClock } from '../helpers/clock.js';
import { metrics } from '../helpers/outcome.js';
import { closedPort, type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';

const DECAY_MS = 1000;

const ask = (client: OpenAI, opts: OpenAI.RequestOptions = {}) =>
  client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, opts);

/** The value of an unlabelled metric. */
async function metric(st: ProxyStack, name: string): Promise<number> {
  const line = (await metrics(st)).split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/**
 * Two keys on two mock upstreams, the server's clock in the test's hands: latencies, their decay
 * and rate-limit resets are all measured by it, so a response takes exactly as long as the test
 * advances the clock while it is held (else 0 ms).
 */
describe('balancing across a key pool', () => {
  let st: ProxyStack;
  let clock: ManualClock;
  const extra: MockUpstream[] = [];

  beforeAll(async () => {
    clock = manualClock();
    st = await startProxyStack({
      clock: clock.now,
      env: { UPSTREAM_LATENCY_DECAY_MS: String(DECAY_MS), UPSTREAM_COOLDOWN_WAIT_MS: '0' },
    });
  });
  afterAll(async () => {
    await st?.stop();
    for (const m of extra) await m.close();
  });

  /** A project whose keys are the stack's mock and a second upstream with these options; its client. */
  async function pool(name: string, opts: MockUpstreamOptions): Promise<{ other: MockUpstream; client: OpenAI }> {
    const other = await startMockUpstream({ apiKey: `sk-${name}-key`, ...opts });
    extra.push(other);
    const project = await st.addProject(name);
    const res = await st.s.manage('POST', `/projects/${project.projectId}/keys`, {
      name,
      api_key: `sk-${name}-key`,
      base_url: `${other.url}/v1`,
    });
    expect(res.status).toBe(201);
    st.mock.reset();
    return { other, client: st.clientFor(project.token) };
  }

  it('skips a key whose responses say its request window is spent until the reset, and no 429 comes', async () => {
    const { other: spent, client } = await pool('spent', {
      rateLimitRemainingRequests: 0,
      rateLimitResetRequestsMs: 60_000,
    });
    // A key never used costs nothing: within two requests the spent key has answered once.
    for (let i = 0; i < 2 && spent.stats().requests === 0; i++) await ask(client);
    expect(spent.stats().requests).toBe(1);
    const skipsBefore = await metric(st, 'llm_proxy_upstream_key_headroom_skips_total');
    expect(await metric(st, 'llm_proxy_upstream_keys_out_of_headroom')).toBe(1);

    // Its window is spent for 60 s: every request goes to the other key, none fails.
    const served = st.mock.stats().requests;
    for (let i = 0; i < 10; i++) await ask(client);
    clock.advance(59_999);
    for (let i = 0; i < 5; i++) await ask(client);
    expect(spent.stats().requests).toBe(1);
    expect(st.mock.stats().requests).toBe(served + 15);
    expect(await metric(st, 'llm_proxy_upstream_key_headroom_skips_total')).toBe(skipsBefore + 15);

    // At the reset it is back. Both keys answered at once, so they cost the same: the weights
    // draw, and 50 draws all missing it has a chance of 2⁻⁵⁰. Its answer spends it again.
    clock.advance(1);
    expect(await metric(st, 'llm_proxy_upstream_keys_out_of_headroom')).toBe(0);
    for (let i = 0; i < 50 && spent.stats().requests === 1; i++) await ask(client);
    expect(spent.stats().requests).toBe(2);
    expect(await metric(st, 'llm_proxy_upstream_keys_out_of_headroom')).toBe(1);
    expect(await metric(st, 'llm_proxy_upstream_key_requests_in_flight')).toBe(0);
  });

  it('sends fewer requests to a slow key: none while it holds one unanswered, none while it is slower', async () => {
    const { other: slow, client } = await pool('slow', { hold: true });
    const pending: Promise<unknown>[] = [];
    /** One request at a time: sent, then answered by the fast key or held by the slow one. */
    const step = async () => {
      const held = slow.stats().held;
      let answered = false;
      const call = ask(client).then(() => {
        answered = true;
      });
      pending.push(call);
      await until(() => answered || slow.stats().held > held);
    };
    for (let i = 0; i < 10; i++) await step();
    // The slow key was tried once (a key never used costs nothing), then kept off while it held it.
    expect(slow.stats().requests).toBe(1);
    expect(st.mock.stats().requests).toBe(9);
    expect(await metric(st, 'llm_proxy_upstream_key_requests_in_flight')).toBe(1);

    // It answers 5 s after it was sent (the fast key's answers took 0 ms): the slower by far.
    clock.advance(5000);
    slow.release();
    await Promise.all(pending);
    await until(async () => (await metric(st, 'llm_proxy_upstream_key_requests_in_flight')) === 0);
    for (let i = 0; i < 10; i++) await step();
    expect(slow.stats().requests).toBe(1);
    expect(st.mock.stats().requests).toBe(19);

    // Idle, its estimate decays toward the fast key's, and it is drawn again (50 misses: 2⁻⁵⁰).
    clock.advance(50 * DECAY_MS);
    for (let i = 0; i < 50 && slow.stats().requests === 1; i++) await step();
    expect(slow.stats().requests).toBe(2);
    slow.release();
    await Promise.all(pending);
  });

  it('counts each attempt in flight until it ends: answered, failed, unreachable or left by the client', async () => {
    const { other: twin, client } = await pool('twin', {});
    const inFlight = () => metric(st, 'llm_proxy_upstream_key_requests_in_flight');
    await until(async () => (await inFlight()) === 0);
    for (let i = 0; i < 4; i++) await ask(client);
    const refusal = await ask(client, { headers: { 'x-mock-status': '400' } }).catch((e: unknown) => e);
    expect((refusal as APIError).status).toBe(400);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _ of stream) expect(await inFlight()).toBeGreaterThanOrEqual(0);
    expect(await inFlight()).toBe(0);

    // The client leaves while the upstream holds its request.
    const ac = new AbortController();
    const left = ask(client, { headers: { 'x-mock-hold': '1' }, signal: ac.signal }).catch((e: unknown) => e);
    await until(() => st.mock.stats().held + twin.stats().held === 1);
    expect(await inFlight()).toBe(1);
    ac.abort();
    expect(await left).toBeInstanceOf(OpenAI.APIUserAbortError);
    await until(async () => (await inFlight()) === 0);

    // A key that cannot be reached: its attempt fails before any byte, ends all the same, and the
    // request fails over to the project's other key.
    const gone = await st.addProject('unreachable');
    const port = await closedPort();
    const added = await st.s.manage('POST', `/projects/${gone.projectId}/keys`, {
      name: 'gone',
      api_key: UPSTREAM_KEY,
      base_url: `http://127.0.0.1:${port}/v1`,
    });
    expect(added.status).toBe(201);
    const goneClient = st.clientFor(gone.token);
    const retried = () => metric(st, 'llm_proxy_upstream_retries_total{reason="connect"}');
    const before = await retried();
    // A key with no latency yet costs least, so one of the first two requests meets the closed port.
    for (let i = 0; i < 4; i++) await ask(goneClient);
    expect(await retried()).toBeGreaterThan(before);
    expect(await inFlight()).toBe(0);
  });
});

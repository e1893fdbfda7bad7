import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/*
 * Retry advice on the proxy's own refusals, seen through the official client with its default
 * retries: a refusal that waiting cannot cure is answered once (`x-should-retry: false`); a timed
 * one says how long (`retry-after`, `retry-after-ms`) and the client's retry then passes.
 */

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(() => st.stop());

interface Call {
  status: number;
  headers: Headers;
}

/** An official client (default retries) of `stack` whose every HTTP call is recorded (and shown to `seen`). */
function countingClient(
  token: string,
  stack: ProxyStack = st,
  seen: (res: Response) => void = () => {},
): { client: OpenAI; calls: Call[] } {
  const calls: Call[] = [];
  const client = new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey: token,
    maxRetries: 2,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      calls.push({ status: res.status, headers: res.headers });
      seen(res);
      return res;
    },
  });
  return { client, calls };
}

const chat = (client: OpenAI, extra: Record<string, unknown> = {}) =>
  client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'hi' }],
    ...extra,
  } as never);

async function refused(p: Promise<unknown>): Promise<APIError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

describe('refusals that cannot succeed later are not retried', () => {
  it('a spent max_requests cap: one HTTP call, 429 with x-should-retry: false and no Retry-After', async () => {
    const t = await st.issueToken({ max_requests: 1 });
    const { client, calls } = countingClient(t.token);
    await chat(client);
    calls.length = 0;
    const err = await refused(chat(client));
    expect(err.status).toBe(429);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers.get('x-should-retry')).toBe('false');
    expect(calls[0]?.headers.get('retry-after')).toBeNull();
  });

  it('a spent lifetime budget, and a request dearer than a whole day budget: one call each', async () => {
    // The estimate of this request (1000 output tokens of gpt-4o-mini: 600 micro-dollars) exceeds both.
    for (const budget_period of ['total', 'day'] as const) {
      const t = await st.issueToken({ budget_usd: 0.0005, budget_period });
      const { client, calls } = countingClient(t.token);
      const err = await refused(chat(client, { max_tokens: 1000 }));
      expect([budget_period, err.status, (err.error as any)?.code]).toEqual([budget_period, 429, 'budget_exceeded']);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.headers.get('x-should-retry')).toBe('false');
      expect(calls[0]?.headers.get('retry-after')).toBeNull();
    }
  });

  it('a day budget spent for today: Retry-After says when it comes back, but no retry within the SDK window', async () => {
    const t = await st.issueToken({ budget_usd: 0.001, budget_period: 'day' });
    const { client, calls } = countingClient(t.token);
    // Each request reserves about 962 micro-dollars and costs about 11: the budget runs out after a few.
    let err: APIError | undefined;
    let sent = 0;
    for (let i = 0; i < 20 && !err; i++) {
      calls.length = 0;
      sent = Date.now();
      err = await chat(client, { max_tokens: 1600 }).then(
        () => undefined,
        (e: APIError) => e,
      );
    }
    const answered = Date.now();
    expect(err?.status).toBe(429);
    const h = calls[0]?.headers as Headers;
    const midnight = new Date(sent);
    midnight.setUTCHours(24, 0, 0, 0);
    // Whole seconds to midnight from the moment of the refusal, between sending and the answer.
    const retryAfter = Number(h.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((midnight.getTime() - answered) / 1000));
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil((midnight.getTime() - sent) / 1000));
    // In the last minute of a UTC day the wait is within the SDK's window and a retry is advised.
    const farOff = Number(h.get('retry-after')) > 60;
    expect(h.get('x-should-retry')).toBe(farOff ? 'false' : 'true');
    if (farOff) expect(calls).toHaveLength(1);
  });

  it('model and endpoint not allowed, unknown token: x-should-retry: false', async () => {
    const t = await st.issueToken({ allowed_models: ['o3*'], allowed_endpoints: ['POST /v1/chat/*'] });
    const { client, calls } = countingClient(t.token);
    expect((await refused(chat(client))).status).toBe(403);
    expect((await refused(client.models.list())).status).toBe(403);
    const unknown = countingClient('sk-llmp-not-a-token');
    expect((await refused(chat(unknown.client))).status).toBe(401);
    for (const c of [...calls, ...unknown.calls]) expect(c.headers.get('x-should-retry')).toBe('false');
    expect(calls).toHaveLength(2);
    expect(unknown.calls).toHaveLength(1);
  });
});

describe('timed refusals say when to retry', () => {
  // The server's clock stands still while the burst is sent (however long a busy machine takes to
  // send it), and moves on by what retry-after-ms says once the client has it; the client's wait
  // and its retry are the SDK's own.
  const clock = manualClock();
  let timed: ProxyStack;
  beforeAll(async () => {
    timed = await startProxyStack({ clock: clock.now });
  });
  afterAll(() => timed.stop());

  it('requests per minute: the client waits as told and its retry is admitted', async () => {
    // 20 per minute: a burst of 20, then one every 3 s.
    const t = await timed.issueToken({ requests_per_minute: 20 });
    const burst = await Promise.all(Array.from({ length: 20 }, () => timed.proxy('/v1/models', { token: t.token })));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(200));
    const { client, calls } = countingClient(t.token, timed, (res) => {
      if (res.status === 429) clock.advance(Number(res.headers.get('retry-after-ms')));
    });
    const reply = await chat(client);
    expect((reply as any).object).toBe('chat.completion');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    const h = calls[0]?.headers as Headers;
    expect(h.get('x-should-retry')).toBe('true');
    const ms = Number(h.get('retry-after-ms'));
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(3000);
    expect(h.get('retry-after')).toBe(String(Math.ceil(ms / 1000)));
  });
});

import OpenAI, { type APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAIErrorBody } from './errors.js';
import { MOCK_HEADERS, type MockStats, type MockUpstream, type RecordedRequest, startMockUpstream } from './index.js';
import { durationText, resolveOptions } from './options.js';
import { RequestLog } from './state.js';

let mock: MockUpstream;
let client: OpenAI;

const errorOf = async (res: Response) => ((await res.json()) as { error: OpenAIErrorBody }).error;

beforeAll(async () => {
  mock = await startMockUpstream();
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const status = (code: number) => ({ headers: { [MOCK_HEADERS.status]: String(code) } });

describe('every response', () => {
  it('carries the OpenAI request id, version, timing and rate-limit headers', async () => {
    const res = await fetch(`${mock.url}/v1/models`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(res.headers.get('openai-processing-ms')).toMatch(/^\d+$/);
    expect(res.headers.get('openai-version')).toBe('2020-10-01');
    for (const kind of ['requests', 'tokens']) {
      for (const prefix of ['limit', 'remaining', 'reset']) {
        expect(res.headers.get(`x-ratelimit-${prefix}-${kind}`), `${prefix}-${kind}`).toBeTruthy();
      }
    }
    const other = await fetch(`${mock.url}/v1/models`);
    expect(other.headers.get('x-request-id')).not.toBe(res.headers.get('x-request-id'));
  });
});

describe('models', () => {
  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o-mini');
    expect(await client.models.retrieve('gpt-4o-mini')).toMatchObject({ id: 'gpt-4o-mini', object: 'model' });
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    await expect(client.models.retrieve('no-such-model')).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
    });
  });
});

describe('request errors', () => {
  it('answers an unknown /v1 URL with 404 unknown_url', async () => {
    const res = await fetch(`${mock.url}/v1/nope?x=1`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: {
        message:
          'Unknown request URL: POST /v1/nope. Please check the URL for typos, or see the docs at https://platform.openai.com/docs/api-reference/.',
        type: 'invalid_request_error',
        param: null,
        code: 'unknown_url',
      },
    });
  });

  it('answers malformed JSON with 400 invalid_request_error', async () => {
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": ',
    });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(error.message).toMatch(/^We could not parse the JSON body of your request/);
  });

  it('answers a missing model with 400', async () => {
    const res = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe('you must provide a model parameter');
  });

  it('reads an unanswered body, so the connection stays usable and the bytes are recorded', async () => {
    for (const size of [20, 3 * 1024 * 1024]) {
      mock.reset();
      const res = await fetch(`${mock.url}/v1/nope`, { method: 'POST', body: Buffer.alloc(size, 7) });
      expect(res.status).toBe(404);
      expect(mock.requests().at(-1)?.bodyBytes).toBe(size);
      expect(mock.stats().bytesIn).toBe(size);
    }
  });

  it('rejects a malformed x-mock header', async () => {
    const res = await fetch(`${mock.url}/v1/models`, { headers: { [MOCK_HEADERS.chunks]: 'many' } });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/x-mock-chunks/);
  });
});

describe('injected error statuses', () => {
  const chat = (code: number) =>
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, status(code));

  it('surface as the client errors with OpenAI bodies', async () => {
    const limited = await chat(429).catch((err: unknown) => err);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'requests' });
    expect((limited as APIError).headers?.get('retry-after')).toBe('1');
    await expect(chat(500)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(chat(500)).rejects.toMatchObject({ status: 500, type: 'server_error' });
    await expect(chat(401)).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
    await expect(chat(400)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(chat(503)).rejects.toMatchObject({ status: 503 });
    await expect(chat(418)).rejects.toMatchObject({ status: 418, type: 'invalid_request_error' });
  });

  it('come from errorStatus for every request', async () => {
    const failing = await startMockUpstream({ errorStatus: 503 });
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${failing.url}/v1/models`)).status).toBe(503);
    } finally {
      await failing.close();
    }
  });

  it('come from errorRate for that fraction of requests', async () => {
    const always = await startMockUpstream({ errorRate: 1 });
    const never = await startMockUpstream({ errorRate: 0, errorStatus: 429 });
    try {
      for (let i = 0; i < 5; i++) {
        expect((await fetch(`${always.url}/v1/models`)).status).toBe(500);
        expect((await fetch(`${never.url}/v1/models`)).status).toBe(200);
      }
    } finally {
      await Promise.all([always.close(), never.close()]);
    }
  });
});

describe('apiKey', () => {
  it('is required as a Bearer token when set', async () => {
    const guarded = await startMockUpstream({ apiKey: 'sk-real' });
    const as = (apiKey: string) => new OpenAI({ baseURL: `${guarded.url}/v1`, apiKey, maxRetries: 0 });
    try {
      expect((await as('sk-real').models.list()).data.length).toBeGreaterThan(0);
      await expect(as('sk-wrong').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
      await expect(as('sk-wrong').models.list()).rejects.toMatchObject({ status: 401, code: 'invalid_api_key' });
      const bare = await fetch(`${guarded.url}/v1/models`);
      expect(bare.status).toBe(401);
      expect((await errorOf(bare)).code).toBe('invalid_api_key');
    } finally {
      await guarded.close();
    }
  });
});

describe('authStyle api-key', () => {
  it('takes the key only from an api-key header, as Azure OpenAI does', async () => {
    const azure = await startMockUpstream({ apiKey: 'azure-real', authStyle: 'api-key' });
    const models = (headers: Record<string, string>) => fetch(`${azure.url}/v1/models`, { headers });
    try {
      expect((await models({ 'api-key': 'azure-real' })).status).toBe(200);
      const wrong = await models({ 'api-key': 'azure-wrong' });
      expect([wrong.status, (await errorOf(wrong)).code]).toEqual([401, 'invalid_api_key']);
      // The right key as a Bearer token is not what this upstream takes.
      expect((await models({ authorization: 'Bearer azure-real' })).status).toBe(401);
      expect((await models({})).status).toBe(401);
    } finally {
      await azure.close();
    }
  });

  it('is bearer or api-key, nothing else', async () => {
    await expect(startMockUpstream({ apiKey: 'k', authStyle: 'basic' as 'bearer' })).rejects.toThrow(
      'mock upstream: authStyle must be bearer or api-key',
    );
  });
});

describe('latency', () => {
  it('delays the response headers', async () => {
    const started = performance.now();
    await fetch(`${mock.url}/v1/models`, { headers: { [MOCK_HEADERS.latencyMs]: '150' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('hold', () => {
  it('holds x-mock-hold requests until released, over HTTP or from TypeScript', async () => {
    const held = [1, 2].map(() => fetch(`${mock.url}/v1/models`, { headers: { [MOCK_HEADERS.hold]: '1' } }));
    await until(() => mock.stats().held === 2);
    const released = await fetch(`${mock.url}/__mock/release`, { method: 'POST' });
    expect(await released.json()).toEqual({ released: 2 });
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect(mock.stats().held).toBe(0);

    const third = fetch(`${mock.url}/v1/models`, { headers: { [MOCK_HEADERS.hold]: '1' } });
    await until(() => mock.stats().held === 1);
    expect(mock.release()).toBe(1);
    expect((await third).status).toBe(200);
  });

  it('lets a held request go when its client leaves', async () => {
    const ac = new AbortController();
    const held = fetch(`${mock.url}/v1/models`, { headers: { [MOCK_HEADERS.hold]: '1' }, signal: ac.signal });
    await until(() => mock.stats().held === 1);
    ac.abort();
    await held.catch(() => {});
    await until(() => mock.stats().held === 0);
    expect(mock.stats().held).toBe(0);
  });
});

describe('per-upstream options for balancing tests', () => {
  it('sends the rate-limit headers it is given, reset times as OpenAI writes them', async () => {
    const spent = await startMockUpstream({
      rateLimitRemainingRequests: 0,
      rateLimitResetRequestsMs: 90_000,
      rateLimitRemainingTokens: 12,
      rateLimitResetTokensMs: 250,
    });
    try {
      for (const path of ['/v1/models', '/v1/nothing-here']) {
        const res = await fetch(`${spent.url}${path}`);
        expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
        expect(res.headers.get('x-ratelimit-reset-requests')).toBe('1m30s');
        expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe('12');
        expect(res.headers.get('x-ratelimit-reset-tokens')).toBe('250ms');
        expect(res.headers.get('x-ratelimit-limit-requests')).toBe('10000');
      }
    } finally {
      await spent.close();
    }
    expect([0, 999, 1000, 8640, 360_000, 3_600_000].map(durationText)).toEqual([
      '0ms',
      '999ms',
      '1s',
      '8.64s',
      '6m0s',
      '1h0m0s',
    ]);
    expect(() => resolveOptions({ rateLimitRemainingRequests: -1 })).toThrow(/rateLimitRemainingRequests/);
  });

  it('holds every request with the hold option, unless a request says x-mock-hold: 0', async () => {
    const slow = await startMockUpstream({ hold: true });
    try {
      const held = fetch(`${slow.url}/v1/models`);
      await until(() => slow.stats().held === 1);
      expect((await fetch(`${slow.url}/v1/models`, { headers: { [MOCK_HEADERS.hold]: '0' } })).status).toBe(200);
      expect(slow.release()).toBe(1);
      expect((await held).status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});

/** Polls `check` every 5 ms until it holds (the test's own timeout bounds the wait). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

describe('recording', () => {
  it('keeps method, path with query, every header lowercased, and body size', async () => {
    const body = JSON.stringify({ model: 'm', input: 'x' });
    await fetch(`${mock.url}/v1/embeddings?trace=1`, {
      method: 'POST',
      headers: { Authorization: 'Bearer sk-upstream', 'X-Custom': 'a', 'content-type': 'application/json' },
      body,
    });
    const [recorded] = mock.requests();
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/embeddings?trace=1', bodyBytes: body.length });
    expect(recorded?.headers).toMatchObject({ authorization: 'Bearer sk-upstream', 'x-custom': 'a' });
    expect(recorded?.at).toBeGreaterThan(Date.now() - 10_000);
  });

  it('keeps only the last entries of a bounded ring, oldest first', () => {
    const log = new RequestLog(3);
    for (let i = 0; i < 5; i++)
      log.add({ method: 'GET', path: `/${i}`, headers: {}, bodyBytes: 0, at: i, httpVersion: '1.1' });
    expect(log.list().map((r) => r.path)).toEqual(['/2', '/3', '/4']);
    log.clear();
    expect(log.list()).toEqual([]);
  });
});

describe('control endpoints', () => {
  it('serve stats and requests, reset both, and are not counted themselves', async () => {
    await fetch(`${mock.url}/v1/models`);
    const stats = (await (await fetch(`${mock.url}/__mock/stats`)).json()) as MockStats;
    expect(stats).toMatchObject({ requests: 1, activeStreams: 0, bytesIn: 0 });
    expect(stats.bytesOut).toBeGreaterThan(0);
    const requests = (await (await fetch(`${mock.url}/__mock/requests`)).json()) as RecordedRequest[];
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });

    expect((await fetch(`${mock.url}/__mock/reset`, { method: 'POST' })).status).toBe(204);
    expect(mock.stats()).toEqual({
      requests: 0,
      activeStreams: 0,
      completedStreams: 0,
      abortedStreams: 0,
      bytesIn: 0,
      bytesOut: 0,
      held: 0,
    });
    expect(mock.requests()).toEqual([]);
    expect((await fetch(`${mock.url}/__mock/nope`)).status).toBe(404);
  });
});

describe('options', () => {
  it('rejects values out of range', () => {
    expect(() => resolveOptions({ chunks: -1 })).toThrow(/chunks/);
    expect(() => resolveOptions({ errorRate: 2 })).toThrow(/errorRate/);
    expect(() => resolveOptions({ errorStatus: 200 })).toThrow(/errorStatus/);
    expect(resolveOptions({})).toMatchObject({ host: '127.0.0.1', port: 0, chunks: 16, latencyMs: 0 });
  });
});

import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from '../../src/mock-upstream/index.js';

/**
 * Starts a mock upstream for the file's tests and an official OpenAI client pointed at it
 * (no retries, so error statuses surface at once); both are ready inside the tests.
 */
export function useMockUpstream(opts?: MockUpstreamOptions): { mock: MockUpstream; client: OpenAI } {
  const ctx = {} as { mock: MockUpstream; client: OpenAI };
  beforeAll(async () => {
    ctx.mock = await startMockUpstream(opts);
    ctx.client = new OpenAI({ baseURL: `${ctx.mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  });
  afterAll(() => ctx.mock.close());
  return ctx;
}

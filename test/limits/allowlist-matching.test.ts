import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { postJson } from './helpers.js';

/*
 * Allowlist globs against hostile input: matching must never freeze the event loop. The proxy runs
 * in this process, so matching that blocks the loop shows as CPU time spent here while the request
 * is served (measured as CPU time, which a busy machine does not inflate, unlike event-loop delay).
 * The bound (1 s) is far above what serving the request with linear matching takes (milliseconds)
 * and far below what backtracking took on the same input (the RegExp version needed over 10 s of
 * CPU for each of these requests).
 */

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(() => st.stop());

/** Runs `work` while measuring this process's CPU time and asking /health in parallel. */
async function whileWatchingLoop<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const [result, health] = await Promise.all([work(), fetch(`${st.url}/health`)]);
  const cpu = process.cpuUsage(before);
  expect(health.status).toBe(200);
  return { result, cpuMs: (cpu.user + cpu.system) / 1000 };
}

describe('allowlist matching against hostile input', () => {
  it('a model allowlist with several stars and a 100 000-character model: answered at once, loop never blocked', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-*-*-preview', 'o?-*-*-*-mini'] });
    const model = `gpt-${'-'.repeat(100_000)}x`;
    const { result, cpuMs } = await whileWatchingLoop(async () => {
      const res = await postJson(st, '/v1/chat/completions', t.token, JSON.stringify({ model, messages: [] }));
      return { status: res.status, body: (await res.json()) as any };
    });
    expect(result.status).toBe(400);
    expect(result.body.error).toEqual({
      message: 'The model name is longer than 256 characters.',
      type: 'invalid_request_error',
      code: 'invalid_model',
      param: 'model',
    });
    expect(result.body.error.message).not.toContain('-----');
    expect(cpuMs).toBeLessThan(1000);
  });

  it('models up to 256 characters are matched; 257 are refused; both without the upstream', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-*-*-preview'] });
    const before = st.mock.stats().requests;
    const chat = (model: string) =>
      postJson(st, '/v1/chat/completions', t.token, JSON.stringify({ model, messages: [] }));
    const at256 = `gpt-${'-'.repeat(251)}x`;
    expect(at256).toHaveLength(256);
    expect(((await (await chat(at256)).json()) as any).error.code).toBe('model_not_allowed');
    expect(((await (await chat(`${at256}y`)).json()) as any).error.code).toBe('invalid_model');
    expect(st.mock.stats().requests - before).toBe(0);
    expect((await chat(`gpt-${'-'.repeat(200)}-preview`)).status).toBe(200);
  });

  it('an endpoint allowlist with three stars and a long path: refused at once, loop never blocked', async () => {
    const t = await st.issueToken({ allowed_endpoints: ['POST /v1/*-*-*-x'] });
    const path = `/v1/${'-'.repeat(3000)}`;
    const { result, cpuMs } = await whileWatchingLoop(async () => {
      const res = await postJson(st, path, t.token, '{}');
      return { status: res.status, body: (await res.json()) as any };
    });
    expect(result.status).toBe(403);
    expect(result.body.error.code).toBe('endpoint_not_allowed');
    expect(cpuMs).toBeLessThan(1000);
    // The same rule still lets matching paths through.
    const ok = await postJson(st, '/v1/a-b-c-x', t.token, '{}');
    expect(ok.status).not.toBe(403);
  });
});

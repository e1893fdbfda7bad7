import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_GLOB_LENGTH, MAX_GLOBS, matchSteps } from '../../src/limits/allowlist.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { postJson } from './helpers.js';

/*
 * Allowlist globs against hostile input: matching must never freeze the event loop. The proxy runs
 * in this process, so the matcher's step counter (src/limits/allowlist.ts `matchSteps`) shows what
 * matching one request cost: a deterministic measure, which time on a shared machine is not. The
 * bounds: lists of at most 100 globs of at most 200 characters (the management API's), paths of at
 * most 2,048 characters (the request line's), models of at most 256 (where the body is read). One
 * glob test costs at most L + n × ⌈L / 32⌉ steps; a request checks at most a token's and a project's
 * list of each kind.
 */

const PATH_MAX = 2048;
const MODEL_MAX = 256;
const WORDS = Math.ceil(MAX_GLOB_LENGTH / 32);
const oneTest = (n: number) => MAX_GLOB_LENGTH + n * WORDS;
/** Every glob of both lists of both kinds, each at its worst. */
const REQUEST_BOUND = 2 * MAX_GLOBS * (oneTest(PATH_MAX) + oneTest(MODEL_MAX));

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(() => st.stop());

/** Runs `work` with a /health request beside it; returns its result and the matching steps it took. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; steps: number }> {
  const before = matchSteps();
  const [result, health] = await Promise.all([work(), fetch(`${st.url}/health`)]);
  expect(health.status).toBe(200);
  await health.arrayBuffer();
  return { result, steps: matchSteps() - before };
}

const send = (path: string, token: string, body: unknown) => async () => {
  const res = await postJson(st, path, token, JSON.stringify(body));
  return { status: res.status, body: (await res.json()) as any };
};

describe('allowlist matching against hostile input', () => {
  it('a 100 000-character model is refused before any glob is tried', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-*-*-preview', 'o?-*-*-*-mini'] });
    const model = `gpt-${'-'.repeat(100_000)}x`;
    const { result, steps } = await measured(send('/v1/chat/completions', t.token, { model, messages: [] }));
    expect(result.status).toBe(400);
    expect(result.body.error).toEqual({
      message: 'The model name is longer than 256 characters.',
      type: 'invalid_request_error',
      code: 'invalid_model',
      param: 'model',
    });
    expect(result.body.error.message).not.toContain('-----');
    expect(steps).toBe(0);
  });

  it('models up to 256 characters are matched; 257 are refused; both without the upstream', async () => {
    const t = await st.issueToken({ allowed_models: ['gpt-*-*-preview'] });
    const before = st.mock.stats().requests;
    const chat = (model: string) =>
      postJson(st, '/v1/chat/completions', t.token, JSON.stringify({ model, messages: [] }));
    const at256 = `gpt-${'-'.repeat(251)}x`;
    expect(at256).toHaveLength(MODEL_MAX);
    expect(((await (await chat(at256)).json()) as any).error.code).toBe('model_not_allowed');
    expect(((await (await chat(`${at256}y`)).json()) as any).error.code).toBe('invalid_model');
    expect(st.mock.stats().requests - before).toBe(0);
    expect((await chat(`gpt-${'-'.repeat(200)}-preview`)).status).toBe(200);
  });

  it('a path over 2,048 characters is refused before the token and the rules; 2,048 are matched', async () => {
    const t = await st.issueToken({ allowed_endpoints: ['POST /v1/*-*-*-x'] });
    const before = st.mock.stats().requests;
    const over = await measured(send(`/v1/${'-'.repeat(PATH_MAX - 3)}`, t.token, {}));
    expect(over.result.status).toBe(400);
    expect(over.result.body.error).toEqual({
      message: 'The request path is longer than 2048 characters.',
      type: 'invalid_request_error',
      code: 'invalid_path',
      param: null,
    });
    expect(over.steps).toBe(0);
    const at = await measured(send(`/v1/${'-'.repeat(PATH_MAX - 4)}`, t.token, {}));
    expect(at.result.status).toBe(403);
    expect(at.result.body.error.code).toBe('endpoint_not_allowed');
    expect(at.steps).toBeGreaterThan(0);
    expect(at.steps).toBeLessThanOrEqual(oneTest(PATH_MAX));
    expect(st.mock.stats().requests - before).toBe(0);
    // The same rule still lets matching paths through.
    expect((await postJson(st, '/v1/a-b-c-x', t.token, '{}')).status).not.toBe(403);
  });

  it('the worst lists allowed, against the longest path and model: every glob tried, within the bound', async () => {
    // A `?` piece between stars is found by a shift-and scan of 7 words per character; these never
    // match, so each scans the whole input. The last glob of a list lets the request on to the next.
    const hostilePath = `/v1/*${'?'.repeat(MAX_GLOB_LENGTH - 7)}x*`;
    const hostileModel = `*${'?'.repeat(MAX_GLOB_LENGTH - 3)}x*`;
    expect([hostilePath.length, hostileModel.length]).toEqual([MAX_GLOB_LENGTH, MAX_GLOB_LENGTH]);
    const fill = (glob: string, last?: string) => [
      ...Array.from({ length: MAX_GLOBS - (last ? 1 : 0) }, () => glob),
      ...(last ? [last] : []),
    ];
    const p = await st.addProject('hostile-lists');
    const patched = await st.s.manage('PATCH', `/projects/${p.projectId}`, {
      allowed_endpoints: fill(hostilePath, '/v1/*'),
      allowed_models: fill(hostileModel),
    });
    expect(patched.status).toBe(200);
    const t = await st.issueToken({
      project_id: p.projectId,
      allowed_endpoints: fill(hostilePath, '/v1/*'),
      allowed_models: fill(hostileModel, '*'),
    });
    const path = `/v1/chat/completions/${'a'.repeat(PATH_MAX - 21)}`;
    const model = 'a'.repeat(MODEL_MAX);
    expect([path.length, model.length]).toEqual([PATH_MAX, MODEL_MAX]);

    const { result, steps } = await measured(send(path, t.token, { model, messages: [] }));
    expect(result.status).toBe(403);
    expect(result.body.error.code).toBe('model_not_allowed');
    // 397 hostile globs of the 400 allowed each scanned all of their input: close to the bound, not over.
    expect(steps).toBeLessThanOrEqual(REQUEST_BOUND);
    expect(steps).toBeGreaterThan(REQUEST_BOUND * 0.95);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CELLS, type Cell } from '../../benchmarks/floor-cells.js';
import type { Target } from '../../benchmarks/floor-targets.js';
import { findWrk, wrkGenerator } from '../../benchmarks/wrk.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { unavailable } from '../helpers/services.js';

/**
 * bench:floor's wrk scripts send the request the cells describe and report wrk's counts. wrk is
 * optional (bench:floor falls back to the Node load generator): without it this skips.
 */
const wrk = findWrk();
if (!wrk) unavailable('wrk is not on PATH: skipping the wrk load-generator test');

let mock: MockUpstream;
let dir: string;
beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: 'sk-wrk-upstream' });
  dir = mkdtempSync(path.join(tmpdir(), 'llmp-wrk-'));
});
afterAll(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

const direct = (token: string): Target => ({ key: 'direct', title: 'direct', url: mock.url, token, pid: null });
const stream = CELLS.find((c) => c.name === 'stream-c32') as Cell;

describe.skipIf(!wrk)('wrk load generator', () => {
  it('streams the paced chat completion and counts refusals as errors', async () => {
    const generator = wrkGenerator(wrk as string, dir);
    const ok = await generator.run(direct('sk-wrk-upstream'), { ...stream, connections: 2 }, 1);
    expect(ok.errors).toBe(0);
    expect(ok.requests).toBeGreaterThan(0);
    // 16 chunks 1 ms apart: a stream takes at least 15 ms.
    expect(ok.p50Ms).toBeGreaterThan(15);
    expect(mock.requests().at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: {
        authorization: 'Bearer sk-wrk-upstream',
        'content-type': 'application/json',
        'x-mock-chunks': '16',
        'x-mock-chunk-delay-ms': '1',
      },
      bodyBytes: Buffer.byteLength(stream.body),
    });

    const refused = await generator.run(direct('sk-wrong'), { ...stream, connections: 1 }, 1);
    expect(refused.errors).toBe(refused.requests);
    expect(refused.errorDetail).toMatch(/non-2xx\/3xx [1-9]/);
  });
});

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../benchmarks/harness-stack.js';
import { type BenchSpec, runBench } from '../../src/bench/bench.js';
import type { Summary } from '../../src/bench/histogram.js';
import type { RunResult } from '../../src/bench/result.js';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';

/** The statistics of the load generator against upstreams whose timing is known. */

let mock: MockUpstream;

beforeAll(async () => {
  mock = await startMockUpstream({});
});
afterAll(async () => {
  await mock.close();
});

function spec(url: string, over: Partial<BenchSpec> & { headers?: Record<string, string> } = {}): BenchSpec {
  return {
    targets: [{ label: 'run', url }],
    requests: [{ endpoint: 'chat' }],
    plan: { concurrency: 4, requests: 40 },
    timeoutMs: 10_000,
    rounds: 1,
    warmupMs: 0,
    ...over,
  };
}

async function one(s: BenchSpec): Promise<RunResult> {
  const report = await runBench(s);
  return report.runs[0] as RunResult;
}

/**
 * Runs a bench and also times it with the test's own clock. How long a run takes depends on how
 * busy the machine is, so upper bounds are stated against this wall time, never as fixed figures:
 * they then hold on a loaded machine and stay tight on an idle one.
 */
async function timedOne(s: BenchSpec): Promise<{ r: RunResult; wallMs: number; startedAt: number }> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const r = await one(s);
  return { r, wallMs: performance.now() - t0, startedAt };
}

/** Summed durations from a summary (the histogram's mean is exact to its 3 significant digits). */
const total = (s: Summary | null) => (s ? s.mean * s.count : Number.NaN);
/** The histograms keep 3 significant digits: 0.1 % slack on sums computed from them. */
const ROUNDING = 1.001;

describe('closed loop against a fixed latency', () => {
  it('reports percentiles of a 20 ms upstream within tolerance', async () => {
    const { r, wallMs } = await timedOne(
      spec(mock.url, { headers: { 'x-mock-latency-ms': '20' }, plan: { concurrency: 8, requests: 200 } }),
    );
    expect(r.requests).toEqual({ sent: 200, completed: 200, ok: 200, errors: 0 });
    expect(r.status).toEqual({ '200': 200 });
    const l = r.latency_ms;
    expect(l?.count).toBe(200);
    // Nothing can be faster than the upstream's delay…
    expect(l?.min).toBeGreaterThanOrEqual(19.9);
    expect(r.ttfb_ms?.min).toBeGreaterThanOrEqual(19.9);
    expect(l?.p50).toBeGreaterThanOrEqual(20);
    expect(l && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max).toBe(true);
    // …and it never over-reports: with at most 8 requests in flight, the latencies add up to at most
    // 8 × the time the run took (the test's own clock). Idle, that is a mean of about 21 ms; under
    // load both sides grow together, so the check needs no allowance for a busy machine.
    expect(r.duration_s * 1000).toBeLessThanOrEqual(wallMs + 1);
    expect(total(l)).toBeLessThanOrEqual(8 * wallMs * ROUNDING);
    // Throughput is what completed in the run's duration: at least 200 over the wall time, and at
    // most 8 connections / 20 ms = 400 req/s.
    expect(r.throughput.rps).toBeCloseTo(200 / r.duration_s, 0);
    expect(r.throughput.rps).toBeGreaterThanOrEqual(200 / (wallMs / 1000));
    expect(r.throughput.rps).toBeLessThanOrEqual(400);
    expect(r.connections).toMatchObject({ opened: 8, max_open: 8 });
    expect(r.bytes.sent).toBeGreaterThan(200 * 50);
    expect(r.bytes.received).toBeGreaterThan(200 * 200);
    expect(r.proxy_overhead_ms).toBeNull(); // the mock sends no Server-Timing
  });

  it('measures stream chunk gaps and counts SSE events', async () => {
    const { r, wallMs } = await timedOne(
      spec(mock.url, {
        requests: [{ endpoint: 'chat', stream: true }],
        headers: { 'x-mock-chunks': '5', 'x-mock-chunk-delay-ms': '10' },
        plan: { concurrency: 2, requests: 6 },
      }),
    );
    expect(r.stream.responses).toBe(6);
    // role chunk + 5 content chunks + finish chunk + [DONE]
    expect(r.stream.events).toBe(6 * 8);
    const gaps = r.chunk_gap_ms;
    // Never shorter than the mock's pacing; and the gaps lie inside their responses, which (two at a
    // time) lie inside the run, so their sum is bounded by the latencies and by 2 × the wall time.
    expect(gaps?.p50).toBeGreaterThanOrEqual(9);
    expect(total(gaps)).toBeLessThanOrEqual(total(r.latency_ms) * ROUNDING);
    expect(total(r.latency_ms)).toBeLessThanOrEqual(2 * wallMs * ROUNDING);
    // 7 paced frames after the first: latency ≈ 70 ms, first byte almost at once.
    expect(r.latency_ms?.p50).toBeGreaterThanOrEqual(69);
    expect(r.ttfb_ms?.p50).toBeLessThan(r.latency_ms?.p50 ?? 0);
  });
});

describe('open loop', () => {
  it('sends at the requested rate: 200 req/s for 2 s', async () => {
    mock.reset();
    const { r, wallMs, startedAt } = await timedOne(
      spec(mock.url, { plan: { concurrency: 16, rate: 200, durationMs: 2000 } }),
    );
    // By schedule, not by clock: request k is due 5k ms after the start, so exactly 400 go out.
    expect(r.requests).toEqual({ sent: 400, completed: 400, ok: 400, errors: 0 });
    expect(r.duration_s).toBeGreaterThanOrEqual(1.995); // the last one is due at 1995 ms
    expect(r.duration_s * 1000).toBeLessThanOrEqual(wallMs + 1);
    expect(r.service_ms).not.toBeNull();
    // Arrivals at the upstream follow the schedule, checked both ways without assuming an idle
    // machine: the k-th arrival is never ahead of its due time (the run starts after `startedAt`),
    // and when the generator falls behind (a stalled event loop) the lag shows in the latency it
    // reports, which counts from the due time: no arrival lags the schedule by more than the worst
    // latency. (Date.now() is whole milliseconds: 1 ms of slack.)
    const at = mock
      .requests()
      .map((q) => q.at)
      .sort((a, b) => a - b);
    expect(at).toHaveLength(400);
    const first = at[0] as number;
    let ahead = 0;
    let lag = 0;
    for (const [k, t] of at.entries()) {
      ahead = Math.max(ahead, startedAt + 5 * k - t);
      lag = Math.max(lag, t - (first + 5 * k));
    }
    expect(ahead).toBeLessThanOrEqual(1);
    expect(lag).toBeLessThanOrEqual((r.latency_ms?.max ?? 0) + 1);
  });

  it('counts queueing from the intended send time (coordinated omission)', async () => {
    // One connection that can do ~45 req/s, asked for 100 req/s: requests queue up.
    const r = await one(
      spec(mock.url, { headers: { 'x-mock-latency-ms': '20' }, plan: { concurrency: 1, rate: 100, durationMs: 600 } }),
    );
    expect(r.requests.sent).toBe(60);
    // Request k is due at 10k ms but cannot start before the k earlier ones (20 ms each) are done, so
    // it waits at least 10k ms: the latency counts that wait…
    expect(r.latency_ms?.p90).toBeGreaterThan(400);
    expect(r.latency_ms?.max).toBeGreaterThan(600);
    // …and the service time does not: on one connection the services never overlap, so they add up
    // to no more than the run's duration; and the waits (at least 19k − 10k ms for request k, 15.9 s
    // in all) are in the latencies only.
    expect(total(r.service_ms)).toBeLessThanOrEqual((r.duration_s * 1000 + 1) * ROUNDING);
    expect(total(r.latency_ms) - total(r.service_ms)).toBeGreaterThan(15_000);
  });
});

describe('what the target reports', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = req.url?.includes('fail') ? 503 : 200;
        res.writeHead(status, {
          'content-type': 'application/json',
          'Server-Timing': 'app;dur=9, proxy;dur=1.5, upstream;dur=2.25',
        });
        res.end('{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('summarises Server-Timing proxy and upstream durations', async () => {
    const r = await one(spec(url, { plan: { concurrency: 2, requests: 20 } }));
    expect(r.proxy_overhead_ms).toMatchObject({ count: 20, p50: 1.5, p99: 1.5, max: 1.5 });
    expect(r.upstream_ms).toMatchObject({ count: 20, p50: 2.25 });
  });

  it('counts errors by status and kind', async () => {
    const failing = await one(spec(url, { requests: [{ endpoint: '/fail' }], plan: { concurrency: 1, requests: 5 } }));
    expect(failing.status).toEqual({ '503': 5 });
    expect(failing.errors).toMatchObject({ http_5xx: 5, http_4xx: 0, connect: 0 });
    expect(failing.requests).toMatchObject({ completed: 5, ok: 0, errors: 5 });

    const closed = await one(spec(`http://127.0.0.1:${await freePort()}`, { plan: { concurrency: 1, requests: 3 } }));
    expect(closed.errors.connect).toBe(3);
    expect(closed.requests).toMatchObject({ sent: 3, completed: 0, ok: 0, errors: 3 });
    expect(Object.keys(closed.error_messages)[0]).toMatch(/ECONNREFUSED/);
    expect(closed.latency_ms).toBeNull();
  });
});

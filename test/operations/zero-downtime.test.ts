import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, type Instance, startInstances } from '../helpers/instances.js';
import { eventually } from '../helpers/scaleout.js';
import { unavailable } from '../helpers/services.js';
import { freePort } from '../scaleout/redis-server.js';
import { request } from './zero-downtime-http.js';
import { percentile, startLoad } from './zero-downtime-load.js';
import { NGINX, startBalancer } from './zero-downtime-nginx.js';

/**
 * A rolling restart as an operator runs one: two `llm-proxy serve` processes on PostgreSQL and
 * Redis behind nginx configured as docs/scaling.md says, steady load through nginx from several
 * clients (chat completions and SSE streams that last across the restarts), then each instance in
 * turn gets SIGTERM, exits, and is started again on its port. Nothing may show: no failed request,
 * no cut stream, no usage record lost or written twice, no request run twice upstream.
 */

const nginx = existsSync(NGINX) || unavailable(`no nginx at ${NGINX}: skipping the zero-downtime restart test`);

/**
 * What the instances run with besides the cluster's own settings: docs/operations.md's advice
 * behind nginx, an idle connection left to nginx (keepalive_timeout 5s) to close while draining.
 */
const INSTANCE_ENV = { SHUTDOWN_IDLE_TIMEOUT_MS: '10000' };

const LOAD = { chatClients: 4, streamClients: 4, streamChunks: 30, chunkDelayMs: 50 };

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-zero-downtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const metrics = async (cluster: Cluster, inst: Instance) =>
  (await request(`${inst.url}/metrics`, { headers: { authorization: `Bearer ${cluster.env.MANAGEMENT_TOKEN}` } })).body;

/** Requests the instance's proxy has answered, from its /metrics. */
async function served(cluster: Cluster, inst: Instance): Promise<number> {
  let n = 0;
  for (const m of (await metrics(cluster, inst)).matchAll(/^llm_proxy_requests_total(?:\{[^}]*\})? (\S+)$/gm)) {
    n += Number(m[1]);
  }
  return n;
}

/** Event-stream responses the instance is sending now. */
async function openStreams(cluster: Cluster, inst: Instance): Promise<number> {
  return Number(/^llm_proxy_open_streams (\S+)$/m.exec(await metrics(cluster, inst))?.[1] ?? 0);
}

describe.skipIf(!nginx)('zero-downtime restarts behind nginx', () => {
  it('restarts two instances in turn under load: nothing failed, cut, lost or run twice', async () => {
    const cluster = await startInstances(0);
    if (!cluster) return;
    const balancerDir = mkdtempSync(path.join(dir, 'nginx-'));
    let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;
    try {
      const ports = [await freePort(), await freePort()];
      const listen = (i: number) => ({ ...INSTANCE_ENV, LISTEN_ADDR: `127.0.0.1:${ports[i]}` });
      const live: Instance[] = [await cluster.add('process', listen(0)), await cluster.add('process', listen(1))];
      balancer = await startBalancer(
        balancerDir,
        ports.map((p) => `127.0.0.1:${p}`),
      );
      const tokens = [await cluster.issue(), await cluster.issue(), await cluster.issue()];
      const load = startLoad(
        balancer.url,
        tokens.map((t) => t.token),
        LOAD,
      );

      // Steady state: both instances serve through nginx.
      await eventually('requests through both instances', async () => {
        const counts = await Promise.all(live.map((i) => served(cluster, i)));
        return load.finished() >= 40 && counts.every((n) => n > 0);
      });
      // The latency before the restarts, measured once warm.
      const steady = performance.now();
      const warm = load.finished();
      await eventually('requests before the restarts', () => load.finished() >= warm + 100);

      const restarts: Array<{ sigterm: number; exited: number; ready: number; routed: number }> = [];
      for (const i of [0, 1]) {
        const old = live[i] as Instance;
        // A stream is in flight on it when the signal comes: the drain must let it finish.
        await eventually(`a stream in flight on instance ${i + 1}`, async () => (await openStreams(cluster, old)) > 0);
        const sigterm = performance.now();
        old.process?.child.kill('SIGTERM');
        expect(await old.process?.exited, old.process?.stdout().slice(-2000)).toBe(0);
        const exited = performance.now();
        const again = await cluster.add('process', listen(i), old.dataDir);
        live[i] = again;
        await eventually(
          `instance ${i + 1} ready again`,
          async () => (await request(`${again.url}/ready`)).status === 200,
        );
        const readyAt = performance.now();
        // nginx counts a refused connection against the instance for fail_timeout: the next one is
        // restarted only once nginx sends this one requests again, or nginx would have none to use.
        await eventually(`nginx routing to instance ${i + 1} again`, async () => (await served(cluster, again)) > 0);
        restarts.push({ sigterm, exited, ready: readyAt, routed: performance.now() });
      }
      const during = load.finished();
      await eventually('requests after the restarts', () => load.finished() >= during + 40);
      const outcomes = await load.stop();

      // Every instance stops (writing what it has queued) before the store is read.
      for (const inst of live) {
        inst.process?.child.kill('SIGTERM');
        expect(await inst.process?.exited).toBe(0);
      }

      // Streams that were being sent when an instance got its SIGTERM.
      const spanning = restarts.map(
        (r) => outcomes.filter((o) => o.kind === 'stream' && o.start < r.sigterm && o.end > r.sigterm).length,
      );
      const first = restarts[0]?.sigterm ?? 0;
      const last = restarts.at(-1)?.routed ?? 0;
      const chatMs = (from: number, to: number) =>
        outcomes.filter((o) => o.kind === 'chat' && o.start >= from && o.start < to).map((o) => o.end - o.start);
      const retried = balancer.accessLog().filter((l) => l.split('|')[1]?.includes(',')).length;
      const failed = outcomes.filter((o) => o.failure !== undefined);
      console.log(
        [
          `zero-downtime: ${outcomes.length} requests (${outcomes.filter((o) => o.kind === 'stream').length} streams), ${failed.length} failed`,
          `  during the restarts (${Math.round(last - first)} ms): ${outcomes.filter((o) => o.end > first && o.start < last).length} requests answered`,
          ...restarts.map(
            (r, i) =>
              `  instance ${i + 1}: drain (SIGTERM to exit) ${Math.round(r.exited - r.sigterm)} ms, started and ready ${Math.round(r.ready - r.exited)} ms later, used by nginx again ${Math.round(r.routed - r.ready)} ms after that`,
          ),
          `  chat p99 before: ${percentile(chatMs(steady, first), 99).toFixed(1)} ms, during: ${percentile(chatMs(first, last), 99).toFixed(1)} ms`,
          `  streams across a SIGTERM: ${spanning.join(', ')}; sent on by nginx after a refused connection: ${retried}`,
        ].join('\n'),
      );

      const nginxErrors = balancer
        .errorLog()
        .split('\n')
        .filter((l) => l && !l.includes('(111: Connection refused)'));
      expect(
        failed.map((o) => `${o.id}: ${o.failure}`),
        nginxErrors.join('\n'),
      ).toEqual([]);
      expect(balancer.accessLog().filter((l) => !l.startsWith('200|'))).toEqual([]);
      // The drain let streams finish: at least one was in flight on an instance when it got SIGTERM
      // (each restart waits for one; it may still end in the moment before the signal).
      expect(
        spanning.some((n) => n > 0),
        `streams across a SIGTERM: ${spanning}`,
      ).toBe(true);

      // Every request ran upstream exactly once and left exactly one usage record, on its token.
      const mock = cluster.mock;
      expect(mock.stats().requests).toBe(outcomes.length);
      const ids = mock.requests().map((r) => r.headers['x-load-id']);
      expect(new Set(ids).size).toBe(ids.length);
      const records = await cluster.query<{ token_id: string; n: string }>(
        'SELECT token_id, count(*) AS n FROM usage_records GROUP BY token_id',
      );
      const counted = await cluster.query<{ id: string; request_count: string }>(
        'SELECT id, request_count FROM tokens',
      );
      const sent = Object.fromEntries(tokens.map((t, k) => [t.id, outcomes.filter((o) => o.token === k).length]));
      expect(Object.fromEntries(records.map((r) => [r.token_id, Number(r.n)]))).toEqual(sent);
      expect(Object.fromEntries(counted.map((r) => [r.id, Number(r.request_count)]))).toEqual(sent);
    } finally {
      await balancer?.stop();
      await cluster.stop();
    }
  });
});

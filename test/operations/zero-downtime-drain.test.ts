import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { spawnServe } from '../helpers/cli.js';
import { eventually } from '../helpers/scaleout.js';
import { chatRequest, issueToken, refused, request } from './zero-downtime-http.js';

/**
 * One instance's side of a zero-downtime restart, on connections the test controls: what a load
 * balancer's kept-alive connection sees while the instance drains (SHUTDOWN_IDLE_TIMEOUT_MS), and
 * what the time between "not ready" and "port closed" serves (SHUTDOWN_DELAY_MS).
 */

const MANAGEMENT_TOKEN = 'zero-downtime-drain-management-token';
const UPSTREAM_KEY = 'sk-upstream-zero-downtime-drain';

let mock: MockUpstream;
const dirs: string[] = [];
beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
});
afterAll(async () => {
  await mock.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function serve(env: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'llmp-drain-'));
  dirs.push(dataDir);
  const srv = await spawnServe({ DATA_DIR: dataDir, OPENAI_API_URL: mock.url, MANAGEMENT_TOKEN, ...env });
  return { srv, token: await issueToken(srv.url, MANAGEMENT_TOKEN, UPSTREAM_KEY) };
}

describe('draining on SIGTERM', () => {
  it('leaves an idle keep-alive connection to its client: a request on it is served with Connection: close', async () => {
    // Only the client's close ends the drain here: neither timeout is reached in the test.
    const { srv, token } = await serve({ SHUTDOWN_IDLE_TIMEOUT_MS: '600000', SHUTDOWN_TIMEOUT_MS: '600000' });
    try {
      // One connection, kept alive between requests, as a load balancer's upstream keepalive does.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const before = await chatRequest(srv.url, token, agent);
      expect(before.status).toBe(200);
      expect(before.headers.connection).toBe('keep-alive');
      const [socket] = Object.values(agent.freeSockets).flat();
      expect(socket).toBeDefined();

      srv.child.kill('SIGTERM');
      // The port closes (new connections are refused) while the idle connection stays open.
      await eventually('the port closed', () => refused(srv.url));
      expect(socket?.destroyed).toBe(false);
      expect(await request(`${srv.url}/ready`, { agent })).toMatchObject({ status: 503, reused: true });

      // That answer closed the connection: the next request goes on a new one, which is refused.
      const during = await chatRequest(srv.url, token, agent).catch((err: NodeJS.ErrnoException) => err.code);
      expect(during).toBe('ECONNREFUSED');
      expect(await srv.exited, srv.stdout().slice(-2000)).toBe(0);
      agent.destroy();
    } finally {
      srv.child.kill('SIGKILL');
    }
  });

  it('answers on such a connection with Connection: close, and exits once the client has closed it', async () => {
    const { srv, token } = await serve({ SHUTDOWN_IDLE_TIMEOUT_MS: '600000', SHUTDOWN_TIMEOUT_MS: '600000' });
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await chatRequest(srv.url, token, agent)).status).toBe(200);
      srv.child.kill('SIGTERM');
      await eventually('the port closed', () => refused(srv.url));
      const answer = await chatRequest(srv.url, token, agent);
      expect(answer).toMatchObject({ status: 200, reused: true });
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.body).choices[0].message.content).toBeTruthy();
      expect(await srv.exited, srv.stdout().slice(-2000)).toBe(0);
      agent.destroy();
    } finally {
      srv.child.kill('SIGKILL');
    }
  });

  it('closes idle connections at once by default', async () => {
    const { srv, token } = await serve({});
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      expect((await chatRequest(srv.url, token, agent)).status).toBe(200);
      const [socket] = Object.values(agent.freeSockets).flat();
      const closed = new Promise((resolve) => socket?.once('close', resolve));
      srv.child.kill('SIGTERM');
      await closed;
      expect(await srv.exited, srv.stdout().slice(-2000)).toBe(0);
      agent.destroy();
    } finally {
      srv.child.kill('SIGKILL');
    }
  });

  it('with SHUTDOWN_DELAY_MS, is not ready but still serves new connections', async () => {
    // A delay no test run reaches: what it serves is checked without racing its end.
    const { srv, token } = await serve({ SHUTDOWN_DELAY_MS: '600000' });
    try {
      srv.child.kill('SIGTERM');
      await eventually('the delay begun', () => srv.stdout().includes('shutdown delay: not ready, still serving'));
      const ready = await request(`${srv.url}/ready`);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body)).toEqual({ status: 'shutting_down' });
      expect(ready.headers.connection).toBe('close');
      const answer = await chatRequest(srv.url, token);
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe('close');
    } finally {
      srv.child.kill('SIGKILL');
    }
  });

  it('after SHUTDOWN_DELAY_MS, closes its port and exits', async () => {
    const delayMs = 1_000;
    const { srv } = await serve({ SHUTDOWN_DELAY_MS: String(delayMs) });
    try {
      const sigterm = performance.now();
      srv.child.kill('SIGTERM');
      expect(await srv.exited, srv.stdout().slice(-2000)).toBe(0);
      // A lower bound only: however slow the machine, the exit cannot come before the delay.
      expect(performance.now() - sigterm).toBeGreaterThanOrEqual(delayMs);
      expect(srv.stdout()).toContain('shutdown delay: not ready, still serving');
    } finally {
      srv.child.kill('SIGKILL');
    }
  });
});

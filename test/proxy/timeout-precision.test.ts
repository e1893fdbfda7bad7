import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/**
 * UPSTREAM_CONNECT_TIMEOUT_MS and UPSTREAM_HEADERS_TIMEOUT_MS are honoured to the millisecond: 500
 * used to fire after about 1,000 ms, because undici checks its timers only about twice a second.
 *
 * Measuring wall time would depend on the machine's speed. Instead each test compares the proxy's
 * timeout with a Node timer of one millisecond more, in the same process (the proxy runs in this
 * one), started *after* the proxy's: when the upstream sees the connection or the request, which
 * can only be after the proxy started its timeout (it starts it before it connects, and before it
 * writes the request). Node runs due timers in the order they fall due, however late the event loop
 * gets to them, and the proxy ends the exchange (the `end` hook) within its timer's callback. So
 * on any machine, under any load, a timeout on a precise timer has ended the exchange when the
 * reference timer runs, and one on a coarse timer (undici's: up to a second late) has not.
 */
const TIMEOUT_MS = 500;

let st: ProxyStack;
const ended = new Set<string>();
beforeAll(async () => {
  // One attempt per request: a connect timeout is otherwise retried, and what is timed here is one.
  st = await startProxyStack({
    env: {
      UPSTREAM_CONNECT_TIMEOUT_MS: String(TIMEOUT_MS),
      UPSTREAM_HEADERS_TIMEOUT_MS: String(TIMEOUT_MS),
      UPSTREAM_RETRY_MAX_ATTEMPTS: '1',
    },
  });
  st.s.server.proxy.attach({ end: (pr) => ended.add(pr.id) });
});
afterAll(async () => st?.stop());

/**
 * The reference: `start()` starts a timer of TIMEOUT_MS + 1; `endedFirst` resolves, once it has
 * run, with whether an exchange had ended by then (tests run one request at a time).
 */
function referenceTimer(): { start(): void; endedFirst: Promise<boolean> } {
  let start = () => {};
  const endedFirst = new Promise<boolean>((resolve) => {
    start = () => {
      const before = ended.size;
      setTimeout(() => resolve(ended.size > before), TIMEOUT_MS + 1);
    };
  });
  return { start: () => start(), endedFirst };
}

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('upstream timeouts below a second', () => {
  it(`UPSTREAM_HEADERS_TIMEOUT_MS=${TIMEOUT_MS}: the 504 comes before a timer of ${TIMEOUT_MS + 1} ms started later`, async () => {
    const ref = referenceTimer();
    // Takes the request and never answers it.
    const silent = http.createServer(() => ref.start());
    const project = await st.addProject('silent', `http://${await listen(silent)}`);
    try {
      const res = await st.proxy('/v1/models', { token: project.token });
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'The upstream API did not answer in time (waiting for response headers).',
      );
      expect(await ref.endedFirst).toBe(true);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it(`UPSTREAM_CONNECT_TIMEOUT_MS=${TIMEOUT_MS}: a TLS handshake that never ends is a 504 before the reference timer`, async () => {
    const ref = referenceTimer();
    // Accepts the TCP connection and never answers the TLS client hello.
    const sockets = new Set<net.Socket>();
    const mute = net.createServer((socket) => {
      sockets.add(socket);
      ref.start();
    });
    const project = await st.addProject('mute', `https://${await listen(mute)}`);
    try {
      const res = await st.proxy('/v1/models', { token: project.token });
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        'The upstream API did not answer in time (connecting).',
      );
      expect(await ref.endedFirst).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      mute.close();
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from './helpers/proxy.js';

let st: ProxyStack;
beforeAll(async () => {
  st = await startProxyStack();
});
afterAll(async () => st.stop());

/** One request over a keep-alive agent; resolves with the response's Keep-Alive header and the socket's local port. */
function get(
  agent: http.Agent,
  path: string,
  token?: string,
): Promise<{ keepAlive: string | undefined; port: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${st.url}${path}`, { agent, headers: token ? { authorization: `Bearer ${token}` } : {} });
    req.on('response', (res) => {
      const { port } = res.socket.address() as AddressInfo;
      res.resume();
      res.on('end', () => resolve({ keepAlive: String(res.headers['keep-alive']), port }));
    });
    req.on('error', reject);
  });
}

describe('keep-alive connections', () => {
  // A server that drops idle connections about when clients' pools do (Node's 5 s against undici's
  // 4 s) races them: a busy client sends on a connection the server is closing, and gets ECONNRESET.
  it('are kept for 72 s (not Node’s 5 s), on the proxy and the management paths alike', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const proxied = await get(agent, '/v1/models', st.token);
      expect(proxied.keepAlive).toBe('timeout=72');
      const manage = await get(agent, '/health');
      expect(manage.keepAlive).toBe('timeout=72');
      expect(manage.port).toBe(proxied.port); // the same connection carried both
    } finally {
      agent.destroy();
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServe } from '../helpers/cli.js';
import { until } from '../helpers/proxy.js';

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-banner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('llm-proxy serve', () => {
  it('prints where the admin UI is and how to sign in, and serves it there; says it listens on every interface', async () => {
    // As the default LISTEN_ADDR (:8080) does, on a free port.
    const srv = await spawnServe({ DATA_DIR: dir, LISTEN_ADDR: ':0' });
    try {
      await until(() => srv.stderr().includes('Stop with Ctrl-C.'));
      expect(srv.stderr()).toContain(`Admin UI:          ${srv.url}/admin/   (sign in with the management token below`);
      const port = new URL(srv.url).port;
      expect(srv.stderr()).toContain(
        `  llm-proxy is running\n` +
          `  Listening on:      every network interface, port ${port}: other machines can reach the proxy, admin UI and management API\n` +
          `                     (this machine only: start with LISTEN_ADDR=127.0.0.1:${port})\n` +
          `  Proxy (base_url):  ${srv.url}/v1\n`,
      );
      const page = await fetch(`${srv.url}/admin/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(await page.text()).toContain('<div id="app"></div>');
    } finally {
      srv.child.kill('SIGTERM');
      expect(await srv.exited).toBe(0);
    }
  });
});

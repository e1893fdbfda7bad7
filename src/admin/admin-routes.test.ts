import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUiRoutes } from './admin-routes.js';
import { CONTENT_SECURITY_POLICY } from './security-headers.js';
import { loadUiFiles } from './ui-files.js';

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-ui-'));
const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

beforeAll(() => {
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><script type="module" src="/admin/assets/app-1a2b.js"></script>',
  );
  writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), script);
  writeFileSync(path.join(dir, '.source-hash'), 'abc');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function app(files: ReturnType<typeof loadUiFiles>) {
  const a = Fastify();
  await a.register(adminUiRoutes, { files });
  return a;
}

describe('the admin UI routes', () => {
  it('answers index.html for every page path, never cached, with the security headers', async () => {
    const a = await app(loadUiFiles(dir));
    for (const url of ['/admin/', '/admin/tokens', '/admin/tokens/01a2?x=1']) {
      const r = await a.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['permissions-policy']).toContain('camera=()');
      expect(r.body).toContain('app-1a2b.js');
    }
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
  });

  it('serves hashed assets cached for a year, gzipped when the client takes it', async () => {
    const a = await app(loadUiFiles(dir));
    const plain = await a.inject({ url: '/admin/assets/app-1a2b.js' });
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(script);
    const gz = await a.inject({ url: '/admin/assets/app-1a2b.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('accept-encoding');
    expect(gz.rawPayload.length).toBeLessThan(script.length / 10);
    expect(gunzipSync(gz.rawPayload).toString()).toBe(script);
  });

  it('answers a missing asset with 404, not the page, and keeps the build bookkeeping private', async () => {
    const a = await app(loadUiFiles(dir));
    for (const url of ['/admin/assets/old-9f9f.js', '/admin/favicon.ico', '/admin/.source-hash']) {
      const r = await a.inject({ url });
      expect({ url, status: r.statusCode }).toEqual({ url, status: 404 });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('sends / and /admin to /admin/', async () => {
    const a = await app(loadUiFiles(dir));
    expect((await a.inject({ url: '/admin' })).headers.location).toBe('/admin/');
    expect((await a.inject({ url: '/' })).headers.location).toBe('/admin/');
  });

  it('says how to build the UI when it was not built', async () => {
    const a = await app(loadUiFiles(path.join(dir, 'nowhere')));
    const r = await a.inject({ url: '/admin/tokens' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build');
    expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { createApp } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { createRuntime } from '../runtime.js';

/**
 * Generates the management API's OpenAPI document from the route schemas, over a throwaway
 * in-memory store: the spec depends on code only, never on data or settings.
 */
export async function exportOpenApi(): Promise<unknown> {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-openapi-'));
  const config = loadConfig(
    {
      DATA_DIR: dir,
      DATABASE_URL: 'sqlite::memory:',
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      MANAGEMENT_TOKEN: randomBytes(24).toString('hex'),
    },
    {},
  );
  const runtime = await createRuntime(config, createLogger({ level: 'silent' }));
  try {
    const { app } = await createApp(runtime, () => false);
    // The spec is served by the encapsulated management plugin; ask it the way a client would.
    const res = await app.inject({ method: 'GET', url: '/manage/openapi.json' });
    await app.close();
    return res.json();
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

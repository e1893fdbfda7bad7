import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { startTestServer } from '../helpers/server.js';

describe('log shipping at start-up', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-ship-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the setting when SHIPPING_FILE cannot be used, and starts nothing', async () => {
    const plain = path.join(dir, 'a-file');
    writeFileSync(plain, '');
    const start = startTestServer({ DATA_DIR: path.join(dir, 'data'), SHIPPING_FILE: path.join(plain, 'usage.jsonl') });
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/SHIPPING_FILE: log shipping cannot use .*a-file \((ENOTDIR|EEXIST)\)/);
  });

  it('has no sinks in /health when no destination is set', async () => {
    const s = await startTestServer({ DATA_DIR: path.join(dir, 'off') });
    try {
      expect(s.server.runtime.shipping).toBeUndefined();
      expect(await (await fetch(`${s.url}/health`)).json()).toMatchObject({ status: 'ok', sinks: {} });
    } finally {
      await s.stop();
    }
  });
});

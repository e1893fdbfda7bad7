import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';

describe('loadConfig', () => {
  it('applies documented defaults', () => {
    const c = loadConfig({}, {});
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.dataDir).toBe(path.resolve('data'));
    expect(c.database).toEqual({ kind: 'sqlite', path: path.resolve('data/llm-proxy.db') });
    expect(c.openaiApiUrl).toBe('https://api.openai.com');
    expect(c.autoMigrate).toBe(true);
    expect(c.encryption).toEqual({ key: undefined, previous: [], required: false });
    expect(c.manage).toEqual({ rateLimitPerMinute: 600, bodyLimitBytes: 1_048_576 });
  });

  it('parses listen addresses, database URLs and booleans', () => {
    expect(loadConfig({}, { LISTEN_ADDR: '127.0.0.1:9000' }).listen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(loadConfig({}, { LISTEN_ADDR: '[::1]:9000' }).listen).toEqual({ host: '::1', port: 9000 });
    expect(loadConfig({}, { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: 'k' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      queryTimeoutMs: 10_000,
    });
    expect(
      loadConfig({}, { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: 'k', DATABASE_QUERY_TIMEOUT_MS: '0' })
        .database,
    ).toMatchObject({ queryTimeoutMs: 0 });
    expect(loadConfig({}, { DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/tmp/x.db',
    });
    expect(loadConfig({}, { AUTO_MIGRATE: 'off' }).autoMigrate).toBe(false);
    expect(loadConfig({}, { REQUIRE_ENCRYPTION_KEY: '1', ENCRYPTION_KEY: 'k' }).encryption.required).toBe(true);
    expect(loadConfig({}, { OPENAI_API_URL: 'http://x:1/' }).openaiApiUrl).toBe('http://x:1');
    expect(loadConfig({}, { ENCRYPTION_KEY_PREVIOUS: 'a, b' }).encryption.previous).toEqual(['a', 'b']);
  });

  it('names the variable in errors', () => {
    for (const [k, v] of [
      ['LISTEN_ADDR', 'nope'],
      ['MANAGE_RATE_LIMIT_PER_MINUTE', '-1'],
      ['OPENAI_API_URL', 'not a url'],
      ['LOG_LEVEL', 'chatty'],
    ] as const) {
      expect(() => loadConfig({}, { [k]: v })).toThrow(new RegExp(k));
    }
  });

  it('layers CONFIG_FILE < environment < overrides, and rejects unknown file keys', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ LISTEN_ADDR: ':1111', LOG_LEVEL: 'warn', MANAGE_RATE_LIMIT_PER_MINUTE: 5 }));
    const c = loadConfig({ LISTEN_ADDR: ':3333' }, { CONFIG_FILE: file, LOG_LEVEL: 'error' });
    expect(c.listen.port).toBe(3333);
    expect(c.log.level).toBe('error');
    expect(c.manage.rateLimitPerMinute).toBe(5);
    writeFileSync(file, JSON.stringify({ LISTEN_ADRR: ':1' }));
    expect(() => loadConfig({}, { CONFIG_FILE: file })).toThrow(/LISTEN_ADRR/);
    expect(() => loadConfig({}, { CONFIG_FILE: path.join(dir, 'missing.json') })).toThrow(ConfigError);
  });

  it('requires ENCRYPTION_KEY with REQUIRE_ENCRYPTION_KEY or PostgreSQL, before touching anything', () => {
    expect(() => loadConfig({}, { REQUIRE_ENCRYPTION_KEY: 'true' })).toThrow(/ENCRYPTION_KEY: required/);
    expect(() => loadConfig({}, { DATABASE_URL: 'postgres://u@h/db' })).toThrow(/ENCRYPTION_KEY: must be set/);
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({}, { LISTEN_ADDR: '' }).listen.port).toBe(8080);
  });
});

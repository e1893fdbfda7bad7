import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
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
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(loadConfig({}, { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: key }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      queryTimeoutMs: 10_000,
      statementTimeoutMs: undefined,
      connectTimeoutMs: 5_000,
      poolSize: 10,
    });
    expect(
      loadConfig({}, { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: key, DATABASE_QUERY_TIMEOUT_MS: '0' })
        .database,
    ).toMatchObject({ queryTimeoutMs: 0 });
    // The server-side timeout may not outlast the client's, which would discard the connection first.
    const pgEnv = { DATABASE_URL: 'postgres://u@h/db', ENCRYPTION_KEY: key, DATABASE_QUERY_TIMEOUT_MS: '1000' };
    expect(() => loadConfig({}, { ...pgEnv, DATABASE_STATEMENT_TIMEOUT_MS: '1001' })).toThrow(
      'DATABASE_STATEMENT_TIMEOUT_MS: must not exceed DATABASE_QUERY_TIMEOUT_MS (1000), or set that to 0',
    );
    expect(loadConfig({}, { ...pgEnv, DATABASE_STATEMENT_TIMEOUT_MS: '900' }).database).toMatchObject({
      statementTimeoutMs: 900,
    });
    expect(loadConfig({}, { DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/tmp/x.db',
    });
    expect(loadConfig({}, { AUTO_MIGRATE: 'off' }).autoMigrate).toBe(false);
    expect(loadConfig({}, { REQUIRE_ENCRYPTION_KEY: '1', ENCRYPTION_KEY: key }).encryption.required).toBe(true);
    expect(loadConfig({}, { OPENAI_API_URL: 'http://x:1/' }).openaiApiUrl).toBe('http://x:1');
    const other = Buffer.alloc(32, 2).toString('base64');
    expect(loadConfig({}, { ENCRYPTION_KEY_PREVIOUS: `${key}, ${other}` }).encryption.previous).toEqual([key, other]);
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

  it('says for every kind of setting what it accepts', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['LISTEN_ADDR', '127.0.0.1:99999', /port "99999" is not valid: .*port 0-65535/],
      ['LISTEN_ADDR', ':65536', /port "65536"/],
      ['LISTEN_ADDR', 'nope', /expected host:port, \[ipv6\]:port or :port/],
      ['LISTEN_ADDR', 'a b:80', /host "a b" is not valid/],
      ['LISTEN_ADDR', '::1:80', /host "::1" is not valid/], // IPv6 needs brackets
      ['LISTEN_ADDR', 8080, /expected a string/], // a number in CONFIG_FILE
      ['STREAM_INCLUDE_USAGE', 'maybe', /expected one of true, false, 1, 0, yes, no, on, off/],
      ['AUTO_MIGRATE', 'nah', /expected one of true, false, 1, 0, yes, no, on, off/],
      ['LOG_LEVEL', 'loud', /expected one of fatal, error, warn, info, debug, trace, silent/],
      ['SHUTDOWN_TIMEOUT_MS', 'abc', /expected a whole number from 0 to 2147483647/],
      ['SHUTDOWN_TIMEOUT_MS', '1.5', /expected a whole number from 0 to 2147483647/],
      ['SHUTDOWN_TIMEOUT_MS', '3000000000', /from 0 to 2147483647/], // Node would make it 1 ms
      ['USAGE_FLUSH_INTERVAL_MS', '5', /from 10 to/],
      ['MANAGE_RATE_LIMIT_PER_MINUTE', '-1', /expected a whole number >= 0/],
      ['UPSTREAM_MAX_CONNECTIONS', '0', /expected a whole number >= 1/],
      ['USAGE_RETENTION_DAYS', '1e9', /from 0 to 36500/],
      ['OPENAI_API_URL', 'api.openai.com', /expected an http\(s\) URL such as https:\/\/api.openai.com/],
      ['OPENAI_API_URL', 'localhost:8080', /expected an http:\/\/ or https:\/\/ URL/],
      ['OPENAI_API_URL', 'ftp://files.example.com', /expected an http:\/\/ or https:\/\/ URL/],
      ['OPENAI_API_URL', 'https://user:pw@api.example.com', /must not contain credentials/],
      ['OPENAI_API_URL', 'https://api.example.com/?x=1', /must not contain a query/],
      ['OPENAI_API_URL', 'http://127.0.0.1:9\\@evil.example', /backslashes \(U\+005C at position 19\)/],
      ['OPENAI_API_URL', 'https://api.example.com\t', /whitespace.*\(U\+0009/],
      ['OPENAI_API_URL', 'https://api.example.com\r\n', /\(U\+000D/],
      ['OPENAI_API_URL', ' https://api.example.com', /\(U\+0020 at position 1\)/],
      ['DATABASE_URL', 'mysql://x', /expected sqlite:<path> or postgres:\/\/user:password@host:port\/database/],
      ['DATABASE_URL', 'sqlite:', /expected sqlite:<path>/],
      ['ENCRYPTION_KEY', 'dG9vLXNob3J0', /must be 32 bytes encoded as base64 \(got 9 bytes\).*openssl rand -base64 32/],
      [
        'ENCRYPTION_KEY_PREVIOUS',
        `${Buffer.alloc(32).toString('base64')},dG9vLXNob3J0`,
        /key 2 of the list: must be 32 bytes/,
      ],
      ['MANAGEMENT_TOKEN', 'short', /at least 16 characters/],
    ];
    for (const [k, v, message] of cases) {
      let thrown: unknown;
      try {
        loadConfig({ [k]: v }, {});
      } catch (err) {
        thrown = err;
      }
      expect(thrown, `${k}=${v}`).toBeInstanceOf(ConfigError);
      const text = (thrown as Error).message;
      expect(text, `${k}=${v}`).toContain(`  ${k}: `);
      expect(text, `${k}=${v}`).toMatch(message);
      expect(text, `${k}=${v}`).not.toMatch(/Invalid input|options\.port/);
    }
    // Every problem at once, so one start shows them all.
    expect(() => loadConfig({}, { LISTEN_ADDR: ':99999', LOG_LEVEL: 'loud' })).toThrow(/LISTEN_ADDR[\s\S]*LOG_LEVEL/);
  });

  it('accepts the edges of each range', () => {
    expect(loadConfig({}, { LISTEN_ADDR: ':0' }).listen).toEqual({ host: '0.0.0.0', port: 0 });
    expect(loadConfig({}, { LISTEN_ADDR: 'localhost:65535' }).listen).toEqual({ host: 'localhost', port: 65535 });
    expect(loadConfig({}, { SHUTDOWN_TIMEOUT_MS: '2147483647' }).shutdownTimeoutMs).toBe(2_147_483_647);
    expect(loadConfig({}, { OPENAI_API_URL: 'https://gateway.example.com/openai/v1' }).openaiApiUrl).toBe(
      'https://gateway.example.com/openai',
    );
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(
      loadConfig({}, { ENCRYPTION_KEY: key, ENCRYPTION_KEY_PREVIOUS: `${key}, ${key}` }).encryption.previous,
    ).toHaveLength(2);
    expect(
      loadConfig({}, { DATABASE_URL: 'postgres:///llm?host=/run/postgresql', ENCRYPTION_KEY: key }).database,
    ).toMatchObject({
      kind: 'postgres',
    });
  });

  it('layers CONFIG_FILE < environment < overrides, and rejects unknown file keys', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfg-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
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

  it('turns on a shipping sink per destination, and says what is wrong with one without echoing secrets', () => {
    expect(loadConfig({}, {}).shipping).toMatchObject({ webhook: undefined, otlp: undefined, file: undefined });
    const c = loadConfig(
      {},
      {
        SHIPPING_WEBHOOK_URL: 'https://hooks.example.com/in?k=1',
        SHIPPING_WEBHOOK_SECRET: 'a-secret-of-16-chars',
        SHIPPING_OTLP_LOGS_ENDPOINT: 'http://collector:4318/',
        SHIPPING_OTLP_LOGS_HEADERS: 'Authorization=Bearer%20abc, x-tenant=acme',
        SHIPPING_FILE: 'events.jsonl',
      },
    ).shipping;
    expect(c.webhook).toEqual({ url: 'https://hooks.example.com/in?k=1', secret: 'a-secret-of-16-chars' });
    expect(c.otlp).toEqual({
      url: 'http://collector:4318/v1/logs',
      headers: { authorization: 'Bearer abc', 'x-tenant': 'acme' },
    });
    expect(c.file).toBe(path.resolve('events.jsonl'));
    expect(loadConfig({}, { SHIPPING_OTLP_LOGS_ENDPOINT: 'http://c:4318/v1/logs' }).shipping.otlp?.url).toBe(
      'http://c:4318/v1/logs',
    );
    expect(() => loadConfig({}, { SHIPPING_WEBHOOK_URL: 'https://h.example.com' })).toThrow(
      /SHIPPING_WEBHOOK_SECRET: required with SHIPPING_WEBHOOK_URL/,
    );
    expect(() => loadConfig({}, { SHIPPING_WEBHOOK_URL: 'ftp://h', SHIPPING_WEBHOOK_SECRET: 'x'.repeat(16) })).toThrow(
      /SHIPPING_WEBHOOK_URL: expected an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => loadConfig({}, { SHIPPING_WEBHOOK_URL: 'https://h', SHIPPING_WEBHOOK_SECRET: 'short' })).toThrow(
      /SHIPPING_WEBHOOK_SECRET: must be at least 16 characters/,
    );
    for (const bad of ['Bearer sk-leak-123', 'a=b,=sk-leak-123', 'x=%E0%A4%A']) {
      let message = '';
      try {
        loadConfig({}, { SHIPPING_OTLP_LOGS_HEADERS: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/SHIPPING_OTLP_LOGS_HEADERS: .*expected name=value,name2=value2/);
      expect(message).not.toContain('sk-leak');
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({}, { LISTEN_ADDR: '' }).listen.port).toBe(8080);
  });
});

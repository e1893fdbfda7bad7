import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '../errors.js';
import { readRedisTls } from '../redis/tls-files.js';
import { loadConfig } from './load.js';

const problem = (env: Record<string, string>) => {
  try {
    loadConfig({}, env);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('Redis settings', () => {
  it('cluster and TLS files are read with REDIS_URL', () => {
    const c = loadConfig(
      {},
      {
        REDIS_URL: 'rediss://:secret-password@redis.internal:6379',
        REDIS_CLUSTER: 'true',
        REDIS_TLS_CA_FILE: '/etc/ca.pem',
        REDIS_TLS_CERT_FILE: '/etc/c.pem',
        REDIS_TLS_KEY_FILE: '/etc/c.key',
      },
    );
    expect(c.redis).toMatchObject({
      cluster: true,
      commandTimeoutMs: 1000,
      tls: { caFile: '/etc/ca.pem', certFile: '/etc/c.pem', keyFile: '/etc/c.key' },
    });
    expect(loadConfig({}, { REDIS_URL: 'redis://h:6379' }).redis).toMatchObject({ cluster: false, tls: {} });
  });

  it('refuses settings that cannot work together, never repeating the URL (it may hold a password)', () => {
    const url = 'redis://:secret-password@h:6379';
    const cases: Array<[Record<string, string>, string]> = [
      [{ REDIS_CLUSTER: 'true' }, 'REDIS_URL: required by REDIS_CLUSTER'],
      [{ REDIS_TLS_CA_FILE: '/ca.pem' }, 'REDIS_URL: required by REDIS_TLS_CA_FILE'],
      [{ REDIS_URL: url, REDIS_TLS_CA_FILE: '/ca.pem' }, 'REDIS_TLS_CA_FILE need a rediss:// URL'],
      [
        { REDIS_URL: url.replace('redis:', 'rediss:'), REDIS_TLS_CERT_FILE: '/c.pem' },
        'REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE: set both',
      ],
      [{ REDIS_URL: `${url}/2`, REDIS_CLUSTER: 'true' }, 'a Redis Cluster has only database 0'],
    ];
    for (const [env, message] of cases) {
      const p = problem(env);
      expect(p).toContain(message);
      expect(p).not.toContain('secret-password');
    }
    expect(problem({ REDIS_URL: `${url}/0`, REDIS_CLUSTER: 'true' })).toBeUndefined();
  });

  it('a TLS file that cannot be read stops the start naming its setting', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'llmp-redis-tls-files-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect(() => readRedisTls({ caFile: path.join(dir, 'missing.pem') })).toThrow(
      /^REDIS_TLS_CA_FILE: cannot read .*missing\.pem: ENOENT$/,
    );
    expect(readRedisTls({})).toBeUndefined();
  });
});

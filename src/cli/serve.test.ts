import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { listenNotice, workersProblem } from './serve.js';

describe('the start banner on the listening address', () => {
  it('warns when every interface is bound (LISTEN_ADDR=:8080 or [::]:8080) and says how to bind locally', () => {
    for (const host of ['0.0.0.0', '::']) {
      const [first, second] = listenNotice(host, 8080);
      expect(first).toMatch(/^ {2}Listening on: {6}every network interface, port 8080: other machines can reach/);
      expect(second).toBe('                     (this machine only: start with LISTEN_ADDR=127.0.0.1:8080)');
    }
  });

  it('says nothing for an address someone chose', () => {
    for (const host of ['127.0.0.1', '::1', '10.0.0.5']) expect(listenNotice(host, 8080)).toEqual([]);
  });
});

describe('WORKERS', () => {
  const config = (env: Record<string, string>) => loadConfig({}, env);

  it('takes auto (one per core) or a whole number from 1 to 256, and refuses anything else saying so', () => {
    expect(config({}).workers).toBe(1);
    expect(config({ WORKERS: '3' }).workers).toBe(3);
    expect(config({ WORKERS: 'auto' }).workers).toBe(availableParallelism());
    for (const bad of ['0', '257', '1.5', 'all', '-1']) {
      expect(() => config({ WORKERS: bad })).toThrow(
        /WORKERS: expected auto \(one per core\) or a whole number from 1 to 256/,
      );
    }
  });

  it('refuses several workers without REDIS_URL (limits would be per process) or on an in-memory database', () => {
    expect(workersProblem(config({ WORKERS: '2' }))).toMatch(
      /^2 worker processes need REDIS_URL: .* a token with max_requests 100 could make 200 requests/,
    );
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(workersProblem(config({ WORKERS: '2', ...redis }))).toBeUndefined();
    expect(workersProblem(config({ WORKERS: '2', ...redis, DATABASE_URL: 'sqlite::memory:' }))).toMatch(/in-memory/);
    expect(workersProblem(config({}))).toBeUndefined();
  });
});

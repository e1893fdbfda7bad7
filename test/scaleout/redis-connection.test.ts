import { setImmediate } from 'node:timers';
import { describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/limiters.js';
import { serviceAvailable } from '../helpers/services.js';

/** Keeps the event loop busy for `ms` (a long synchronous task, a GC pause, a starved CPU). */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('Redis connection under a stalled event loop', () => {
  it('a reply that arrived while the loop was stalled past the deadline is taken, not failed', async (ctx) => {
    if (!(await serviceAvailable('redis'))) return ctx.skip();
    const redis = await testRedis({ commandTimeoutMs: 50, breakerFailures: 100 });
    try {
      for (let i = 0; i < 3; i++) {
        const reply = redis.send<string>(['PING']);
        // Written (node-redis writes on a later turn), then Redis answers within the deadline, but
        // this process reads the answer only after it.
        await new Promise((resolve) => setImmediate(resolve));
        stall(1000);
        await expect(reply).resolves.toBe('PONG');
      }
      expect(redis.breaker.state).toBe('closed');
    } finally {
      await redis.close();
    }
  });
});

import { existsSync } from 'node:fs';
import net from 'node:net';

/**
 * Tests that need PostgreSQL, Redis or Chromium skip with a printed reason when it is absent, except
 * under CI (REQUIRE_SERVICES=1) where a missing service is a failure, never a silent skip.
 */
const required = process.env.REQUIRE_SERVICES === '1';

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether something listens on a local port: connected or refused, without a time limit (a busy
 * machine can take its time to answer, and a local port that nothing listens on is refused at once).
 */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const checks = {
  postgres: () => reachable('127.0.0.1', 5432),
  redis: () => reachable('127.0.0.1', 6379),
  chromium: async () => existsSync('/usr/bin/chromium'),
};

/** Resolves true when the service is there; otherwise prints why and resolves false (or throws in CI). */
export async function serviceAvailable(name: keyof typeof checks): Promise<boolean> {
  if (await checks[name]()) return true;
  return unavailable(`${name} is not available: skipping the tests that need it`);
}

/** A test's precondition is missing (a service, root for a mount): prints why and returns false, or throws in CI. */
export function unavailable(msg: string): false {
  if (required) throw new Error(`${msg} (REQUIRE_SERVICES=1 forbids skipping)`);
  process.stderr.write(`[skip] ${msg}\n`);
  return false;
}

import type { RawConfig } from './schema.js';

/**
 * Redis settings that only make sense together: TLS files need rediss://, a client certificate
 * needs its key, a cluster has only database 0. The message never repeats REDIS_URL (it may hold a
 * password).
 */
export function redisSettingsProblem(c: RawConfig): string | undefined {
  const tlsFiles = (['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const).filter(
    (k) => c[k] !== undefined,
  );
  const dependent = [...tlsFiles, ...(c.REDIS_CLUSTER ? ['REDIS_CLUSTER'] : [])];
  if (!c.REDIS_URL) return dependent.length > 0 ? `REDIS_URL: required by ${dependent.join(', ')}` : undefined;
  const url = new URL(c.REDIS_URL);
  if (tlsFiles.length > 0 && url.protocol !== 'rediss:') {
    return `REDIS_URL: ${tlsFiles.join(', ')} need a rediss:// URL (TLS)`;
  }
  if ((c.REDIS_TLS_CERT_FILE === undefined) !== (c.REDIS_TLS_KEY_FILE === undefined)) {
    return 'REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE: set both (a client certificate and its key) or neither';
  }
  if (c.REDIS_CLUSTER && url.pathname.length > 1 && url.pathname !== '/0') {
    return 'REDIS_URL: a Redis Cluster has only database 0; drop the /<db> from the URL with REDIS_CLUSTER=true';
  }
  return undefined;
}

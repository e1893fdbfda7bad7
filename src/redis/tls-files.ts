import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { RedisTls } from './client-options.js';

/**
 * Reads the PEM files named by REDIS_TLS_*_FILE once, at the start: a missing or unreadable file
 * stops the start naming the setting (a connection that could never verify would only fail later).
 */
export function readRedisTls(files: { caFile?: string; certFile?: string; keyFile?: string }): RedisTls | undefined {
  const read = (setting: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(
        `${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const tls: RedisTls = {};
  if (files.caFile) tls.ca = read('REDIS_TLS_CA_FILE', files.caFile);
  if (files.certFile) tls.cert = read('REDIS_TLS_CERT_FILE', files.certFile);
  if (files.keyFile) tls.key = read('REDIS_TLS_KEY_FILE', files.keyFile);
  return Object.keys(tls).length > 0 ? tls : undefined;
}

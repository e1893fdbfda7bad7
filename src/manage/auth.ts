import type { FastifyRequest } from 'fastify';
import { safeEqual } from '../crypto/secrets.js';
import { errors } from '../errors.js';

/** Extracts a bearer credential; returns undefined when absent or malformed. */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** onRequest hook factory: constant-time check of the management token; `rejected` hears of each failure first. */
export function requireManagementToken(
  expected: string,
  rejected: (req: FastifyRequest, reason: 'missing' | 'invalid') => Promise<void> = async () => {},
) {
  return async (req: FastifyRequest): Promise<void> => {
    const given = bearer(req);
    if (given !== undefined && safeEqual(given, expected)) return;
    await rejected(req, given === undefined ? 'missing' : 'invalid');
    throw errors.managementUnauthorized();
  };
}

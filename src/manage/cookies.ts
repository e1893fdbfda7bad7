import type { FastifyReply, FastifyRequest } from 'fastify';

/** The session cookie: a random opaque id, for the server only (HttpOnly), never sent cross-site (Strict). */
export const SESSION_COOKIE = 'llmp_session';
/**
 * Sent with management API calls only: never with `/v1` requests, which the proxy forwards
 * upstream with their headers (a browser script calling the proxy from the same origin).
 */
export const SESSION_COOKIE_PATH = '/manage';
/** The sign-in in progress with the identity provider: Lax, since the provider's redirect back is cross-site. */
export const OIDC_COOKIE = 'llmp_oidc';

/** One cookie of the request (the first of that name), undefined when absent. */
export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * `Secure` when the request reached us over TLS, or a trusted proxy in front says it did
 * (X-Forwarded-Proto: https with TRUST_PROXY): a cookie marked Secure is never sent over plain
 * http, so it is set only where the browser is on https.
 */
export const isSecure = (req: FastifyRequest): boolean => req.protocol === 'https';

export interface CookieOptions {
  path: string;
  sameSite: 'Strict' | 'Lax';
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/** Adds a Set-Cookie header (several may go out with one reply). Always HttpOnly: no page script ever reads one. */
export function setCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  value: string,
  o: CookieOptions,
): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path}`,
    `Max-Age=${Math.max(0, Math.floor(o.maxAge))}`,
    'HttpOnly',
    `SameSite=${o.sameSite}`,
  ];
  if (isSecure(req)) parts.push('Secure');
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  reply.header('set-cookie', [...list, parts.join('; ')]);
}

export const clearCookie = (
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  path: string,
  sameSite: 'Strict' | 'Lax',
) => setCookie(req, reply, name, '', { path, sameSite, maxAge: 0 });

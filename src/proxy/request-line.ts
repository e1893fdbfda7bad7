import { type AppError, errors } from '../errors.js';

/** The methods the proxy forwards (docs/proxy.md "Routes"); anything else is a 405. */
export const FORWARDED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const METHODS = new Set(FORWARDED_METHODS.split(', '));

/** Rounds of percent-decoding tried; a path still encoded after that is refused rather than guessed at. */
const MAX_DECODE_ROUNDS = 4;

/**
 * Checks a `/v1` request line before anything else (the token included): a method the proxy does
 * not forward, or a path an upstream could resolve to somewhere outside the project's `base_url`
 * prefix or outside what an endpoint rule matched. Costs three `includes` on the usual path.
 */
export function checkRequestLine(method: string | undefined, path: string): AppError | undefined {
  if (method === undefined || !METHODS.has(method)) return errors.methodNotAllowed(method ?? '', FORWARDED_METHODS);
  if ((path.includes('.') || path.includes('%') || path.includes('\\')) && unsafePath(path)) {
    return errors.unsafePath();
  }
  return undefined;
}

/**
 * True when a path (without its query) holds a backslash or a `.` / `..` segment, raw or
 * percent-encoded any number of times (`%2e`, `%252e`, `%u002e`, `%2f` as the separator, `%5c`), including
 * `..;param` forms that some servers read as `..`. Each round of decoding is one linear pass.
 */
export function unsafePath(path: string): boolean {
  let p = path;
  for (let round = 0; p.includes('%'); round++) {
    if (round === MAX_DECODE_ROUNDS) return true;
    const next = percentDecode(p);
    if (next === p) break;
    p = next;
  }
  // Every segment follows a '/', so a dot segment needs "/." (dots inside names do not).
  return p.includes('\\') || (p.includes('/.') && hasDotSegment(p));
}

/**
 * Decodes every valid `%XX` (and IIS-style `%uXXXX`) to one character and leaves anything else as
 * it is, never throwing: exactly the legacy `unescape`, which is native and several times faster
 * than a RegExp replace. Only ASCII `.`, `/`, `\` and `%` matter to the checks.
 */
const percentDecode = (s: string): string => unescape(s);

/** A segment that is `.` or `..`, optionally followed by `;params`. */
function hasDotSegment(p: string): boolean {
  let start = 0;
  // The next ';' is searched again only once a segment start has passed it: one pass in all.
  let semi = p.indexOf(';');
  while (start <= p.length) {
    let end = p.indexOf('/', start);
    if (end === -1) end = p.length;
    if (semi !== -1 && semi < start) semi = p.indexOf(';', start);
    const stop = semi !== -1 && semi < end ? semi : end;
    const len = stop - start;
    if ((len === 1 || len === 2) && p.charCodeAt(start) === 46 && (len === 1 || p.charCodeAt(start + 1) === 46)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

import { isUtf8 } from 'node:buffer';
import { type AppError, errors } from '../errors.js';

/** The methods the proxy forwards (docs/proxy.md "Routes"); anything else is a 405. */
export const FORWARDED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const METHODS = new Set(FORWARDED_METHODS.split(', '));

/**
 * The longest path (without its query) forwarded. OpenAI's are under 200 characters (ids are under
 * 100); the bound keeps this check and endpoint-rule matching small (see limits/allowlist.ts).
 */
export const MAX_PATH_LENGTH = 2048;

/** Rounds of percent-decoding tried; a path still encoded after that is refused rather than guessed at. */
const MAX_DECODE_ROUNDS = 4;

/**
 * Any character but printable ASCII less `%`, `.` and `\`: a path without one (`/v1/chat/completions`)
 * needs no closer look. One character class and no quantifier: a single native scan, no backtracking.
 */
const NEEDS_A_LOOK = /[^\x21-\x24\x26-\x2d\x2f-\x5b\x5d-\x7e]/;
/**
 * After decoding, what could make a path unsafe: a backslash, anything outside printable ASCII, or a
 * segment that starts with a dot or a space. Fixed-length alternatives: one scan, no backtracking.
 */
const SUSPECT = /[^\x20-\x5b\x5d-\x7e]|\/[. ]/;
/** Anything outside printable ASCII (space included, as `%20` decodes to it). */
const NOT_PLAIN = /[^\x20-\x7e]/;
/** Bytes no path needs: C0 controls and DEL; or a character that cannot be a byte at all. */
const CONTROL_OR_NOT_A_BYTE = /[^\x20-\x7e\x80-\xff]/;
/** C1 controls, once the bytes are read as UTF-8. */
const C1_CONTROL = /[\x80-\x9f]/;
/** IIS-style `%uXXXX`, either case: no standard encoding, so refused rather than decoded. */
const IIS_ESCAPE = /%u[0-9a-f]{4}/i;
/** What a path's structure is made of; a non-ASCII character that NFKC-folds to one is a look-alike. */
const STRUCTURAL = /[./\\%;?#]/;

/**
 * Checks a `/v1` request line before anything else (the token included): a method the proxy does
 * not forward, or a path an upstream could resolve to somewhere outside the project's `base_url`
 * prefix or outside what an endpoint rule matched. Costs one character-class scan on the usual path.
 */
export function checkRequestLine(method: string | undefined, path: string): AppError | undefined {
  if (method === undefined || !METHODS.has(method)) return errors.methodNotAllowed(method ?? '', FORWARDED_METHODS);
  if (path.length > MAX_PATH_LENGTH) return errors.pathTooLong(MAX_PATH_LENGTH);
  if (NEEDS_A_LOOK.test(path) && unsafePath(path)) return errors.unsafePath();
  return undefined;
}

/**
 * True when a path (without its query), raw or percent-encoded any number of times (`%2e`,
 * `%252e`, `%2f` as the separator, `%5c`), holds a backslash, a `.` / `..` segment (also
 * `..;param`, and dots with spaces, `...`, which some servers trim to `..`), an IIS `%uXXXX`
 * escape, a control character (`..%00` reads as `..` to C code), bytes that are not valid UTF-8
 * (overlong `%c0%ae` is a `.` to lax decoders), or a character that NFKC-normalises to `.`, `/`,
 * `\`, `%`, `;`, `?` or `#` (full-width `．`, `／`). Each round of decoding is one linear pass.
 */
export function unsafePath(path: string): boolean {
  let p = path;
  for (let round = 0; p.includes('%'); round++) {
    if (round === MAX_DECODE_ROUNDS || IIS_ESCAPE.test(p)) return true;
    const next = percentDecode(p);
    if (next === p) break;
    p = next;
  }
  // Every segment follows a '/', so a dot segment needs "/." or "/ " (dots inside names do not).
  if (!SUSPECT.test(p)) return false;
  return p.includes('\\') || hasDotSegment(p) || (NOT_PLAIN.test(p) && unsafeCharacters(p));
}

/**
 * Decodes every valid `%XX` to one character (a byte, as Node hands the raw path over as latin1)
 * and leaves anything else as it is, never throwing: the legacy `unescape`, which is native and
 * several times faster than a RegExp replace (its `%uXXXX` decoding never runs: those are refused).
 */
const percentDecode = (s: string): string => unescape(s);

/** The decoded path's bytes beyond printable ASCII: controls, invalid UTF-8, look-alikes of `.` `/` `\`. */
function unsafeCharacters(bytes: string): boolean {
  if (CONTROL_OR_NOT_A_BYTE.test(bytes)) return true;
  const raw = Buffer.from(bytes, 'latin1');
  // Strict: overlong forms, surrogates and stray bytes are all invalid.
  if (!isUtf8(raw)) return true;
  const text = raw.toString('utf8');
  if (C1_CONTROL.test(text)) return true;
  // Names already in NFKC (most non-ASCII) cost one normalisation; the rest are looked at per character.
  if (text.normalize('NFKC') === text) return false;
  for (const ch of text) {
    if (ch.charCodeAt(0) > 0x7f && STRUCTURAL.test(ch.normalize('NFKC'))) return true;
  }
  return false;
}

/** A segment of dots, optionally with spaces (`.`, `..`, `...`, `.. `), optionally followed by `;params`. */
function hasDotSegment(p: string): boolean {
  let start = 0;
  // The next ';' is searched again only once a segment start has passed it: one pass in all.
  let semi = p.indexOf(';');
  while (start <= p.length) {
    let end = p.indexOf('/', start);
    if (end === -1) end = p.length;
    if (semi !== -1 && semi < start) semi = p.indexOf(';', start);
    const stop = semi !== -1 && semi < end ? semi : end;
    if (onlyDots(p, start, stop)) return true;
    start = end + 1;
  }
  return false;
}

/** True when p[start, stop) holds at least one `.` and nothing but dots and spaces. */
function onlyDots(p: string, start: number, stop: number): boolean {
  let dots = 0;
  for (let i = start; i < stop; i++) {
    const c = p.charCodeAt(i);
    if (c === 46) dots++;
    else if (c !== 32) return false;
  }
  return dots > 0;
}

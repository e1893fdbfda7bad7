/**
 * What an upstream API key may hold. The key travels as `Authorization: Bearer <key>`, and undici
 * refuses a header value with control characters or characters beyond Latin-1 (every request
 * would fail with UND_ERR_INVALID_ARG). Surrounding spaces are refused rather than trimmed: a
 * secret is stored exactly as given or not at all.
 * Returns what is wrong (never the key itself), or undefined when the key can be sent.
 */
export function upstreamKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (/^\s|\s$/.test(key)) {
    return 'starts or ends with whitespace; remove it (keys are stored exactly as given, never trimmed)';
  }
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c >= 0xa0 && c <= 0xff) continue;
    const what =
      c === 0x0a || c === 0x0d ? 'a line break' : c <= 0xff ? 'a control character' : 'a character outside Latin-1';
    const code = `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    return `contains ${what} (${code}) at position ${i + 1}; an upstream key can only hold visible ASCII or Latin-1 characters, as it is sent in an HTTP header`;
  }
  return undefined;
}

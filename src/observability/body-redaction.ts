/**
 * Bodies for the log (LOG_BODIES): the first LOG_BODY_MAX_BYTES of a request or response body,
 * as text, with secrets masked. The masking works on text, not on parsed JSON, because a body cut
 * at the cap is no longer valid JSON and must be masked all the same.
 */

/** JSON members whose value is a secret by name, wherever they appear in a body. */
const SECRET_MEMBER =
  /("(?:api[_-]?key|authorization|password|passwd|secret|client_secret|token|access_token|refresh_token|id_token|x-api-key)"\s*:\s*)"(?:[^"\\]|\\.)*"?/gi;
/** Key and token shapes in free text: OpenAI keys, llm-proxy tokens, bearer credentials. */
const SECRET_SHAPES = /\b(?:sk|rk|pk)-[A-Za-z0-9_-]{8,}|\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_MEMBER, '$1"[redacted]"').replace(SECRET_SHAPES, '[redacted]');
}

/**
 * A body as it is logged: text bodies (JSON, form fields, SSE) cut to `max` bytes and masked;
 * anything else only by size, so binary uploads and audio never reach the log.
 */
export const isTextBody = (contentType: string): boolean => /json|^text\/|x-www-form-urlencoded/.test(contentType);

export function loggedBody(bytes: Buffer, contentType: string, max: number): string {
  if (!isTextBody(contentType)) return `[${bytes.length} bytes of ${contentType || 'unknown type'}]`;
  const cut = bytes.length > max;
  // A cut in the middle of a UTF-8 sequence decodes to U+FFFD, which is harmless here.
  const text = bytes.subarray(0, max).toString('utf8');
  return redactSecrets(text) + (cut ? `…[${bytes.length - max} more bytes]` : '');
}

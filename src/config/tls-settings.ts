import type { RawConfig } from './schema.js';

/**
 * The TLS settings that only make sense together: a certificate needs its key (and the other way
 * round), and cleartext HTTP/2 is for a server without TLS (with TLS, HTTP/2 is negotiated anyway).
 */
export function tlsSettingsProblem(c: RawConfig): string | undefined {
  if ((c.TLS_CERT_FILE === undefined) !== (c.TLS_KEY_FILE === undefined)) {
    const missing = c.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    return `${missing}: set TLS_CERT_FILE and TLS_KEY_FILE together (a certificate and its private key), or neither`;
  }
  if (c.HTTP2_CLEARTEXT && c.TLS_CERT_FILE !== undefined) {
    return 'HTTP2_CLEARTEXT: cleartext HTTP/2 is for a server without TLS; with TLS_CERT_FILE, HTTP/2 is served already (ALPN). Set one or the other';
  }
  return undefined;
}

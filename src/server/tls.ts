import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.js';

/** TLS 1.0 and 1.1 are deprecated (RFC 8996); every client of an OpenAI-style API has 1.2. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** What the logs, /metrics and the reload compare of a certificate (never anything of the key). */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** Hex, as openssl prints it. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint256: string;
}

/** A certificate (chain) and its private key, read and checked together. */
export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  info: CertificateInfo;
}

/** A file of the pair that cannot be used: `setting` names it; the message never holds key material. */
export class TlsFileError extends Error {
  constructor(
    readonly setting: 'TLS_CERT_FILE' | 'TLS_KEY_FILE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads TLS_CERT_FILE and TLS_KEY_FILE and checks them as a pair: both readable, a PEM certificate,
 * an unencrypted PEM key that belongs to it, and accepted by OpenSSL together. Throws TlsFileError.
 */
export function readTlsPair(files: { certFile: string; keyFile: string }): TlsPair {
  const cert = read('TLS_CERT_FILE', files.certFile);
  const key = read('TLS_KEY_FILE', files.keyFile);
  let x509: X509Certificate;
  try {
    // The first certificate of the file is the leaf; the rest, if any, is its chain.
    x509 = new X509Certificate(cert);
  } catch {
    throw new TlsFileError('TLS_CERT_FILE', `${files.certFile} holds no PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // OpenSSL's own message is not repeated: it may quote part of the file.
    throw new TlsFileError(
      'TLS_KEY_FILE',
      `${files.keyFile} holds no PEM private key that can be read without a passphrase`,
    );
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsFileError(
      'TLS_KEY_FILE',
      `the private key in ${files.keyFile} does not belong to the certificate in ${files.certFile}`,
    );
  }
  const pair: TlsPair = { cert, key, info: certificateInfo(x509) };
  try {
    createSecureContext(secureContextOptions(pair));
  } catch (err) {
    // E.g. a key below OpenSSL's security level; the message names the problem, not the key.
    throw new TlsFileError('TLS_CERT_FILE', `${files.certFile} cannot be served: ${(err as Error).message}`);
  }
  return pair;
}

/** readTlsPair at start: a file that cannot be served stops the start, naming its setting and path. */
export function loadTlsPair(files: { certFile: string; keyFile: string }): TlsPair {
  try {
    return readTlsPair(files);
  } catch (err) {
    if (!(err instanceof TlsFileError)) throw err;
    throw new ConfigError(`Invalid configuration:\n  ${err.setting}: ${err.message}`);
  }
}

/** The options of the server's secure context for a pair (at start, and on every reload). */
export function secureContextOptions(pair: TlsPair): SecureContextOptions {
  return { cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION };
}

/** Log fields of a certificate: who it names, who signed it, and its validity. */
export function certificateFields(info: CertificateInfo): Record<string, string> {
  return {
    subject: info.subject,
    issuer: info.issuer,
    serial: info.serial,
    not_before: info.notBefore.toISOString(),
    not_after: info.notAfter.toISOString(),
  };
}

function read(setting: 'TLS_CERT_FILE' | 'TLS_KEY_FILE', file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (err as Error).message;
    throw new TlsFileError(setting, `cannot read ${file}: ${why}`);
  }
}

function certificateInfo(x509: X509Certificate): CertificateInfo {
  return {
    subject: x509.subject.replaceAll('\n', ', '),
    issuer: x509.issuer.replaceAll('\n', ', '),
    serial: x509.serialNumber,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    fingerprint256: x509.fingerprint256,
  };
}

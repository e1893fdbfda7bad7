import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Leaf, type TestCa, testCa } from '../../benchmarks/tls-certs.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { loadTlsPair, readTlsPair, TlsFileError } from '../../src/server/tls.js';
import { spawnCli } from '../helpers/cli.js';

/** The message loadConfig refuses `env` with (it must refuse). */
const refusal = (env: Record<string, string>): string => {
  try {
    loadConfig({}, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('accepted');
};

/** The TlsFileError readTlsPair throws for these files (it must throw one). */
const fileError = (certFile: string, keyFile: string): TlsFileError => {
  try {
    readTlsPair({ certFile, keyFile });
  } catch (err) {
    expect(err).toBeInstanceOf(TlsFileError);
    return err as TlsFileError;
  }
  throw new Error('accepted');
};

/** Nothing of a PEM key (its armour or any 16 characters of its base64) is in `text`. */
function expectNoKeyMaterial(text: string, keyPem: string): void {
  expect(text).not.toContain('PRIVATE KEY');
  const base64 = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
  for (let i = 0; i + 16 <= base64.length; i += 16) expect(text).not.toContain(base64.slice(i, i + 16));
}

describe('TLS settings', () => {
  it('are read into absolute paths; HTTP2_CLEARTEXT is off by default', () => {
    const c = loadConfig({}, { TLS_CERT_FILE: 'tls/tls.crt', TLS_KEY_FILE: '/etc/tls.key' });
    expect(c.tls).toEqual({ certFile: path.resolve('tls/tls.crt'), keyFile: '/etc/tls.key' });
    expect(c.http2Cleartext).toBe(false);
    expect(loadConfig({}, {}).tls).toBeUndefined();
    expect(loadConfig({}, { HTTP2_CLEARTEXT: 'true' }).http2Cleartext).toBe(true);
  });

  it('refuse a certificate without its key, a key without its certificate, and h2c with TLS', () => {
    expect(refusal({ TLS_CERT_FILE: '/etc/tls.crt' })).toContain(
      'TLS_KEY_FILE: set TLS_CERT_FILE and TLS_KEY_FILE together',
    );
    expect(refusal({ TLS_KEY_FILE: '/etc/tls.key' })).toContain(
      'TLS_CERT_FILE: set TLS_CERT_FILE and TLS_KEY_FILE together',
    );
    expect(refusal({ TLS_CERT_FILE: '/etc/tls.crt', TLS_KEY_FILE: '/etc/tls.key', HTTP2_CLEARTEXT: 'yes' })).toContain(
      'HTTP2_CLEARTEXT: cleartext HTTP/2 is for a server without TLS',
    );
    expect(refusal({ HTTP2_CLEARTEXT: 'maybe' })).toContain('HTTP2_CLEARTEXT: expected one of true, false');
  });
});

describe('TLS files checked at start', () => {
  let ca: TestCa;
  let leaf: Leaf;
  let other: Leaf;
  let dir: string;

  beforeAll(() => {
    ca = testCa();
    leaf = ca.issue('checked');
    other = ca.issue('someone-else');
    dir = path.join(ca.dir, 'bad');
    mkdirSync(dir);
  });
  afterAll(() => ca?.close());

  it('accept a good pair and describe its certificate', () => {
    const pair = readTlsPair({ certFile: leaf.certFile, keyFile: leaf.keyFile });
    expect(pair.info).toMatchObject({ subject: 'CN=checked', issuer: 'CN=llm-proxy test CA', serial: leaf.serial });
    expect(pair.info.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it('name the setting and the file that cannot be used, and nothing of the key', () => {
    const missing = path.join(dir, 'missing.crt');
    expect(fileError(missing, leaf.keyFile)).toMatchObject({
      setting: 'TLS_CERT_FILE',
      message: `cannot read ${missing}: no such file`,
    });
    expect(fileError(leaf.certFile, dir)).toMatchObject({
      setting: 'TLS_KEY_FILE',
      message: `cannot read ${dir}: it is a directory`,
    });
    const notPem = path.join(dir, 'not.crt');
    writeFileSync(notPem, 'hello\n');
    expect(fileError(notPem, leaf.keyFile)).toMatchObject({
      setting: 'TLS_CERT_FILE',
      message: `${notPem} holds no PEM certificate`,
    });
    // The key where the certificate belongs, and the other way round.
    expect(fileError(leaf.keyFile, leaf.keyFile).setting).toBe('TLS_CERT_FILE');
    const swapped = fileError(leaf.certFile, leaf.certFile);
    expect(swapped.setting).toBe('TLS_KEY_FILE');
    const encrypted = path.join(dir, 'encrypted.key');
    execFileSync('openssl', [
      'pkey',
      '-in',
      leaf.keyFile,
      '-aes256',
      '-passout',
      'pass:secret-pass',
      '-out',
      encrypted,
    ]);
    expect(fileError(leaf.certFile, encrypted)).toMatchObject({
      setting: 'TLS_KEY_FILE',
      message: `${encrypted} holds no PEM private key that can be read without a passphrase`,
    });
    const mismatch = fileError(leaf.certFile, other.keyFile);
    expect(mismatch).toMatchObject({
      setting: 'TLS_KEY_FILE',
      message: `the private key in ${other.keyFile} does not belong to the certificate in ${leaf.certFile}`,
    });
    for (const err of [swapped, mismatch]) expectNoKeyMaterial(err.message, other.key);
    expectNoKeyMaterial(swapped.message, leaf.key);
  });

  it('stop the start as a configuration error naming the setting', () => {
    expect(() => loadTlsPair({ certFile: leaf.certFile, keyFile: other.keyFile })).toThrow(ConfigError);
    expect(() => loadTlsPair({ certFile: leaf.certFile, keyFile: other.keyFile })).toThrow(
      /^Invalid configuration:\n {2}TLS_KEY_FILE: the private key in .* does not belong to the certificate in /,
    );
  });

  it('llm-proxy serve refuses a mismatched pair before creating anything, with a clear message', async () => {
    const dataDir = path.join(dir, 'data');
    const res = await spawnCli(['serve'], {
      LISTEN_ADDR: '127.0.0.1:0',
      DATA_DIR: dataDir,
      TLS_CERT_FILE: leaf.certFile,
      TLS_KEY_FILE: other.keyFile,
    });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('TLS_KEY_FILE: the private key in');
    expect(res.stderr).not.toMatch(/at .*\.js:\d+/);
    expectNoKeyMaterial(res.stderr + res.stdout, other.key);
    expect(existsSync(dataDir)).toBe(false);
  });
});

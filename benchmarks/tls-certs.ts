import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A test certificate authority: its certificate (for clients to trust) and the folder it works in. */
export interface TestCa {
  dir: string;
  /** PEM of the CA's certificate. */
  cert: string;
  /** Issues a leaf for localhost / 127.0.0.1 / ::1 with this common name; PEM files in `dir`. */
  issue(commonName: string, opts?: { days?: number }): Leaf;
  close(): void;
}

export interface Leaf {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** Hex, as X509Certificate.serialNumber gives it. */
  serial: string;
}

let counter = 0;

/** Real certificates made with openssl: an EC P-256 CA and leaves it signs. */
export function testCa(): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'llmp-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  // A new EC P-256 key, unencrypted, in `keyFile`, and its request (or self-signed certificate) in `out`.
  const newKey = (keyFile: string, out: string) => [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    out,
  ];
  ssl(
    'req',
    '-x509',
    ...newKey('ca.key', 'ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=llm-proxy test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  return {
    dir,
    cert: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    issue(commonName, opts = {}) {
      const n = ++counter;
      const base = `leaf-${n}`;
      writeFileSync(
        path.join(dir, `${base}.ext`),
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
      );
      ssl('req', ...newKey(`${base}.key`, `${base}.csr`), '-subj', `/CN=${commonName}`);
      // A serial of our choosing, so a test can tell two leaves apart by it.
      const serial = `${(0x1000 + n).toString(16).toUpperCase()}${Date.now().toString(16).toUpperCase()}`;
      ssl(
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${serial}`,
        '-days',
        String(opts.days ?? 1),
        '-extfile',
        `${base}.ext`,
        '-out',
        `${base}.crt`,
      );
      const certFile = path.join(dir, `${base}.crt`);
      const keyFile = path.join(dir, `${base}.key`);
      return {
        certFile,
        keyFile,
        cert: readFileSync(certFile, 'utf8'),
        key: readFileSync(keyFile, 'utf8'),
        serial: serial.length % 2 === 1 ? `0${serial}` : serial,
      };
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `content` to `file` the way a renewal does: into a temporary file, then renamed over it. */
export function replaceAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

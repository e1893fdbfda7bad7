import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import { setTlsPair, type TlsTransport } from './http-server.js';
import { type CertificateInfo, certificateFields, readTlsPair, type TlsPair } from './tls.js';

/** Changes to the files come in bursts (a secret update renames, links and removes): one read after them. */
const SETTLE_MS = 200;

/**
 * Keeps the served certificate in step with TLS_CERT_FILE and TLS_KEY_FILE: `reload()` (SIGHUP)
 * and any change in their folders read both again and, if they make a good pair, serve it
 * (`setSecureContext`): new connections get it, open ones keep theirs. A bad pair (half-written,
 * mismatched) is refused with a log line, and the one served stays. The folders are watched, not
 * the files, so an atomic replacement (a rename, Kubernetes' swap of the `..data` link) is seen.
 */
export class CertificateReloader {
  private readonly watchers: FSWatcher[] = [];
  private settle: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: TlsTransport,
    private readonly files: { certFile: string; keyFile: string },
    private readonly logger: Logger,
  ) {}

  /** The certificate being served to new connections. */
  get current(): CertificateInfo {
    return this.transport.pair.info;
  }

  /** Watches the files' folders; a change is read once the burst it belongs to has settled. */
  watch(): void {
    const dirs = new Set([path.dirname(this.files.certFile), path.dirname(this.files.keyFile)]);
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, () => {
          clearTimeout(this.settle);
          this.settle = setTimeout(() => this.reload('file change', true), SETTLE_MS);
        });
        watcher.on('error', (err) => {
          this.logger.warn({ dir, err: err.message }, 'TLS files: watching stopped (SIGHUP still reloads)');
        });
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn({ dir, err: (err as Error).message }, 'TLS files: cannot watch (SIGHUP still reloads)');
      }
    }
  }

  /**
   * Reads both files and serves them if they are a good pair; true when they are. `quiet`: the
   * files may not have changed at all (a watch event): nothing is logged unless they did.
   */
  reload(reason: string, quiet = false): boolean {
    const served = this.transport.pair;
    let next: TlsPair;
    try {
      next = readTlsPair(this.files);
    } catch (err) {
      this.logger.error(
        { reason, err: (err as Error).message, serving: served.info.serial },
        'TLS certificate reload refused: still serving the previous certificate',
      );
      return false;
    }
    const unchanged = next.cert.equals(served.cert) && next.key.equals(served.key);
    if (unchanged && quiet) return true;
    setTlsPair(this.transport, next);
    this.logger.info({ reason, ...certificateFields(next.info) }, 'TLS certificate loaded');
    warnIfOutOfDate(next.info, this.logger);
    return true;
  }

  close(): void {
    clearTimeout(this.settle);
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
  }
}

/** Serving a certificate outside its validity is allowed (a renewal may be on its way), but said. */
export function warnIfOutOfDate(info: CertificateInfo, logger: Logger, now = Date.now()): void {
  if (info.notAfter.getTime() < now) {
    logger.warn(certificateFields(info), 'TLS certificate has expired: clients will refuse it');
  } else if (info.notBefore.getTime() > now) {
    logger.warn(certificateFields(info), 'TLS certificate is not valid yet: clients will refuse it');
  }
}

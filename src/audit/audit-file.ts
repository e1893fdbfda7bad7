import { createWriteStream, type WriteStream } from 'node:fs';
import { type Logger, openPrivateFile } from '../observability/logger.js';
import type { AuditEventView } from './audit-view.js';

/**
 * AUDIT_LOG_FILE: every event this process appended to the chain, one JSON object per line, in
 * chain order, after its transaction committed. Private (0600; an existing file is made so), opened
 * for appending, written asynchronously: a slow disk delays no request.
 */
export class AuditFile {
  private readonly stream: WriteStream;
  private failed = false;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    this.stream = createWriteStream('', { fd: openPrivateFile(file, 'AUDIT_LOG_FILE') });
    this.stream.on('error', (err) => {
      // The events are in the database; the file is a copy. Said once, loudly, not once per event.
      if (!this.failed)
        this.logger.error({ file, err: err.message }, 'audit file write failed; events stay in the database');
      this.failed = true;
    });
  }

  write(events: readonly AuditEventView[]): void {
    if (events.length === 0 || this.failed) return;
    this.stream.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  /** Resolves once everything written so far is on its way to disk and the file is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.closed || this.failed) return resolve();
      this.stream.end(() => resolve());
    });
  }
}

import path from 'node:path';
import { makeDir } from '../shared/make-dir.js';
import { appendPrivate } from './private-file.js';
import type { Sink } from './sink.js';
import type { UsageEventV1 } from './usage-event.js';

/** Appends each event as one JSON line to SHIPPING_FILE (0600), a batch per write, flushed to disk. */
export class FileSink implements Sink {
  readonly name = 'file';

  constructor(private readonly file: string) {
    makeDir(path.dirname(file), 0o700);
  }

  async deliver(events: UsageEventV1[]): Promise<void> {
    let text = '';
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    await appendPrivate(this.file, text);
  }

  async close(): Promise<void> {}
}

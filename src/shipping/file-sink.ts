import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { appendPrivate } from './private-file.js';
import type { Sink } from './sink.js';
import type { UsageEventV1 } from './usage-event.js';

/** Appends each event as one JSON line to SHIPPING_FILE (0600), a batch per write, flushed to disk. */
export class FileSink implements Sink {
  readonly name = 'file';

  constructor(private readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }

  async deliver(events: UsageEventV1[]): Promise<void> {
    let text = '';
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    await appendPrivate(this.file, text);
  }

  async close(): Promise<void> {}
}

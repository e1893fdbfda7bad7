import { appendPrivate } from './private-file.js';
import type { UsageEventV1 } from './usage-event.js';

/**
 * A sink's dead-letter file (DATA_DIR/shipping/<sink>/dead-letter.jsonl, 0600): events whose batch
 * the sink refused or that failed past the retry budget, one JSON line each with why, so an operator
 * can inspect them and send them again (`jq -c .event`). Nothing here is retried automatically.
 */
export class DeadLetter {
  constructor(
    readonly file: string,
    private readonly sink: string,
  ) {}

  write(events: UsageEventV1[], attempts: number, reason: string): Promise<void> {
    const at = new Date().toISOString();
    let text = '';
    for (const event of events) {
      text += `${JSON.stringify({ dead_lettered_at: at, sink: this.sink, attempts, reason, event })}\n`;
    }
    return appendPrivate(this.file, text);
  }
}

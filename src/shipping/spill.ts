import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import { appendPrivate } from './private-file.js';
import { parseUsageEvent, type UsageEventV1 } from './usage-event.js';

export interface SpillOptions {
  /** DATA_DIR/shipping/<sink>: created 0700, files 0600. */
  dir: string;
  /** Bytes of segment files at most; events that would go past it are not written (the newest are dropped). */
  maxBytes: number;
  logger: Logger;
  /** A segment this large takes no more appends (default 1 MiB). */
  segmentBytes?: number;
}

interface Segment {
  name: string;
  bytes: number;
  /** Lines in it (events, until a read finds some torn). */
  lines: number;
}

const PREFIX = 'spill-';
const SUFFIX = '.jsonl';
/** Written on close: how many events of the oldest segment the sink already acknowledged. */
const CURSOR = 'cursor.json';

/**
 * A sink's events on disk, oldest first, while the sink is slow or down: append-only JSON-lines
 * segments (one event per line, the schema the sink receives), read back from the oldest and deleted
 * once the sink has acknowledged every event in them. What survives a restart of the proxy is
 * read at the next start and sent then (at least once: a crash resends the oldest segment from its
 * start; a clean stop records how far it got). Every file operation runs in order on one chain and
 * off the request path; appends are batched by the caller and flushed to disk (fdatasync).
 */
export class Spill {
  private readonly segments: Segment[] = [];
  /** The segment appends go to (the newest), until it is full or the reader wants it. */
  private current: Segment | undefined;
  /** The oldest segment, loaded, and how many of its events were acknowledged. */
  private head: { seg: Segment; events: UsageEventV1[]; pos: number } | undefined;
  /** Acknowledged events of the oldest segment, from the last clean stop. */
  private skip: { name: string; count: number } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private torn = false;
  private full = false;
  private seq = 0;
  private readonly segmentBytes: number;
  /** Lines of all segments (events, until a read finds some torn). */
  private lines = 0;
  /** Bytes of all segment files (acknowledged events included until their segment is deleted). */
  bytes = 0;

  constructor(private readonly opts: SpillOptions) {
    this.segmentBytes = opts.segmentBytes ?? 1024 * 1024;
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    // Start-up only: what a previous process left, counted so the queue depth is right from the start.
    for (const name of fs.readdirSync(opts.dir).filter(isSegment).sort()) {
      const data = fs.readFileSync(path.join(opts.dir, name));
      const seg = { name, bytes: data.length, lines: countLines(data) };
      this.segments.push(seg);
      this.bytes += seg.bytes;
      this.lines += seg.lines;
    }
    const cursorFile = path.join(opts.dir, CURSOR);
    if (fs.existsSync(cursorFile)) {
      try {
        const c = JSON.parse(fs.readFileSync(cursorFile, 'utf8')) as { segment?: unknown; acknowledged?: unknown };
        const seg = this.segments[0];
        if (seg && c.segment === seg.name && typeof c.acknowledged === 'number') {
          this.skip = { name: seg.name, count: Math.min(c.acknowledged, seg.lines) };
        }
      } catch {
        // A torn cursor: resend the whole oldest segment (at least once).
      }
      fs.rmSync(cursorFile, { force: true });
    }
  }

  /** Events on disk not acknowledged yet. */
  get pending(): number {
    return this.lines - (this.head?.pos ?? this.skip?.count ?? 0);
  }

  /**
   * Writes the events after those already spilled, as many as fit under maxBytes; resolves with how
   * many did not fit (dropped: the newest). Rejects when the write failed (nothing counts as written).
   */
  append(events: UsageEventV1[]): Promise<number> {
    return this.run(async () => {
      // Once full, everything newer is dropped until the sink has taken a segment off the disk,
      // so what is kept is always the oldest events (never a smaller later one slipped in).
      if (this.full) return events.length;
      let text = this.torn ? '\n' : '';
      let bytes = text.length;
      let written = 0;
      for (const e of events) {
        const line = `${JSON.stringify(e)}\n`;
        const size = Buffer.byteLength(line);
        if (this.bytes + bytes + size > this.opts.maxBytes) {
          this.full = true;
          break;
        }
        text += line;
        bytes += size;
        written++;
      }
      if (written === 0) return events.length;
      let seg = this.current;
      if (!seg || seg.bytes >= this.segmentBytes) {
        const name = `${PREFIX}${String(Date.now()).padStart(13, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}${SUFFIX}`;
        seg = { name, bytes: 0, lines: 0 };
        this.segments.push(seg);
        this.current = seg;
      }
      try {
        await appendPrivate(path.join(this.opts.dir, seg.name), text);
      } catch (err) {
        // Part of it may be on disk: the next append starts on a fresh line, and what is there now is counted.
        this.torn = true;
        const size = await fileSize(path.join(this.opts.dir, seg.name));
        this.bytes += size - seg.bytes;
        seg.bytes = size;
        throw err;
      }
      this.torn = false;
      seg.bytes += bytes;
      seg.lines += written;
      this.bytes += bytes;
      this.lines += written;
      return events.length - written;
    });
  }

  /** The next up to `n` events not yet acknowledged, oldest first (the same ones until `ack`). */
  peek(n: number): Promise<UsageEventV1[]> {
    return this.run(async () => {
      while (this.segments.length > 0) {
        if (!this.head) await this.load(this.segments[0] as Segment);
        const head = this.head as NonNullable<Spill['head']>;
        if (head.pos < head.events.length) return head.events.slice(head.pos, head.pos + n);
        await this.drop(head.seg);
      }
      return [];
    });
  }

  /** The sink acknowledged the `n` events `peek` returned last. */
  ack(n: number): Promise<void> {
    return this.run(async () => {
      const head = this.head;
      if (!head) return;
      head.pos += n;
      if (head.pos >= head.events.length) await this.drop(head.seg);
    });
  }

  /** On shutdown, after the last append: records how far the oldest segment was acknowledged. */
  async close(): Promise<void> {
    await this.run(async () => {
      const head = this.head;
      if (!head || head.pos === 0) return;
      const file = path.join(this.opts.dir, CURSOR);
      fs.writeFileSync(file, JSON.stringify({ segment: head.seg.name, acknowledged: head.pos }), { mode: 0o600 });
    });
  }

  private async load(seg: Segment): Promise<void> {
    // The reader never shares a file with appends: the next append opens a new segment.
    if (seg === this.current) this.current = undefined;
    const text = await fs.promises.readFile(path.join(this.opts.dir, seg.name), 'utf8');
    const events: UsageEventV1[] = [];
    let bad = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const e = parseUsageEvent(line);
      if (e) events.push(e);
      else bad++;
    }
    if (bad > 0)
      this.opts.logger.warn({ file: seg.name, bad_lines: bad }, 'log shipping: skipped unreadable spilled lines');
    const pos = this.skip?.name === seg.name ? Math.min(this.skip.count, events.length) : 0;
    this.skip = undefined;
    // From here the segment counts the events actually readable.
    this.lines += events.length - seg.lines;
    seg.lines = events.length;
    this.head = { seg, events, pos };
  }

  private async drop(seg: Segment): Promise<void> {
    this.segments.splice(this.segments.indexOf(seg), 1);
    if (this.head?.seg === seg) this.head = undefined;
    if (this.current === seg) this.current = undefined;
    this.bytes -= seg.bytes;
    this.lines -= seg.lines;
    this.full = false;
    await fs.promises.rm(path.join(this.opts.dir, seg.name), { force: true });
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => {});
    return next;
  }
}

const isSegment = (name: string) => name.startsWith(PREFIX) && name.endsWith(SUFFIX);

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0;
  }
}

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors. Secrets are never logged in the first place; this is the safety net for a
 * header object or request body logged by mistake. Kept short and without deep wildcards: the
 * censor runs on every log line, including one per proxied request.
 */
const REDACT_PATHS = [
  'authorization',
  'api_key',
  'token',
  'headers.authorization',
  'headers["api-key"]',
  'req.headers.authorization',
  'req.headers["api-key"]',
  'body.api_key',
];

/** Lines are handed to the file in blocks of this size, and at least this often when traffic is light. */
const BUFFER_BYTES = 4096;
const FLUSH_INTERVAL_MS = 250;

export interface LoggerOptions {
  level: string;
  file?: string | undefined;
  /** Tests pass a stream to capture output. */
  stream?: NodeJS.WritableStream;
}

type Destination = ReturnType<typeof pino.destination>;

/**
 * Collects lines and hands them to the destination ~4 KiB at a time, in order. sonic-boom's own
 * buffering appends each line to one growing string and measures its byte length on every write,
 * which copies the whole buffer per line; here a line costs an array push.
 */
class LineBatcher {
  private lines: string[] = [];
  private bytes = 0;

  constructor(private readonly dest: Destination) {}

  write(line: string): boolean {
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= BUFFER_BYTES) this.handOver();
    return true;
  }

  /** pino's `logger.flush(cb)` lands here: everything collected, then written out. */
  flush(cb?: (err?: Error) => void): void {
    this.handOver();
    if (cb) this.dest.flush(cb);
  }

  /** On exit: whatever is collected or queued, written synchronously. */
  flushSync(): void {
    this.handOver();
    try {
      this.dest.flushSync();
    } catch {
      // An asynchronous write still in progress: sonic-boom's own exit handler finishes it.
    }
  }

  handOver(): void {
    if (this.lines.length === 0) return;
    const block = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    this.dest.write(block);
  }
}

/** Every batcher, so one exit handler writes out all of them. */
const batchers = new Set<LineBatcher>();

/**
 * JSON-lines logger. Output goes through an asynchronous sonic-boom destination fed in blocks
 * (see LineBatcher), so a slow disk or pipe never blocks a request and lines cost one write per
 * ~4 KiB, not one each. Lines reach the sink within FLUSH_INTERVAL_MS; collected lines are
 * written on shutdown and on exit.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = {
    level: opts.level,
    base: { service: 'llm-proxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.stream) return pino(options, opts.stream);
  if (opts.file) mkdirSync(path.dirname(path.resolve(opts.file)), { recursive: true });
  const batcher = new LineBatcher(pino.destination({ dest: opts.file ?? 1, sync: false, mkdir: true }));
  setInterval(() => batcher.handOver(), FLUSH_INTERVAL_MS).unref();
  if (batchers.size === 0) {
    process.once('exit', () => {
      for (const b of batchers) b.flushSync();
    });
  }
  batchers.add(batcher);
  return pino(options, batcher);
}

/** Flushes buffered log lines; call before exit. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

import { fchmodSync, fstatSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { makeDir } from '../shared/make-dir.js';

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

/** Rotation of LOG_FILE: at a size, after a time, keeping a number of old files. */
export interface LogRotation {
  /** Rotate once the file reaches this many bytes; 0 = never by size. */
  maxBytes: number;
  /** Rotate once the file is this old; 0 = never by time. */
  intervalMs: number;
  /** Rotated files kept (`file.1` the newest … `file.N`); older ones are deleted. */
  keep: number;
}

export interface LoggerOptions {
  level: string;
  file?: string | undefined;
  rotation?: LogRotation | undefined;
  /**
   * Where lines go without LOG_FILE: 1 (stdout, the server's default) or 2 (stderr: one-shot CLI
   * commands, whose stdout is their output).
   */
  fd?: 1 | 2 | undefined;
  /** Tests pass a stream to capture output. */
  stream?: NodeJS.WritableStream;
  /** Fields on every line, e.g. `worker` under WORKERS (serialised once, at creation). */
  fields?: Record<string, string | number>;
  /**
   * Other processes write to the same stdout or LOG_FILE (WORKERS): blocks stay within PIPE_BUF, so
   * a pipe never interleaves two processes' lines, and with LOG_FILE but no `rotation` this process
   * follows the file when the process that rotates it renames it.
   */
  shared?: boolean;
}

/** Writes up to this size to a pipe are atomic (POSIX PIPE_BUF on Linux): lines of several processes never mix. */
const PIPE_BUF = 4096;
/** How often a process that does not rotate LOG_FILE looks whether it was renamed. */
const FOLLOW_MS = 250;

type Destination = ReturnType<typeof pino.destination>;

/**
 * Collects lines and hands them to the destination ~4 KiB at a time, in order. sonic-boom's own
 * buffering appends each line to one growing string and measures its byte length on every write,
 * which copies the whole buffer per line; here a line costs an array push.
 *
 * Shutdown: sonic-boom's `flush(cb)` calls back at once when minLength is 0, even with a write in
 * flight, and `flushSync()` skips a write in flight; either way `process.exit()` right after could
 * drop the last lines. So the batcher notes when it hands a block over and when sonic-boom reports
 * its queue written ('drain', emitted whenever an asynchronous write leaves nothing queued);
 * `flush(cb)` waits for that, then writes the lines collected meanwhile synchronously and calls
 * back, and from then on every line is written synchronously, so a line logged between the final
 * flush and exit lands too. The last lines (a fatal error's) never wait in the thread pool behind
 * other work: if exit comes first, they are still collected here, and the exit handler writes them.
 */
class LineBatcher {
  private lines: string[] = [];
  private bytes = 0;
  /** A block was handed to the asynchronous destination and it has not drained since. */
  private pending = false;
  private waiting: Array<() => void> = [];
  private dest: Destination;
  /** Synchronous destination on the same descriptor, used after the final flush and on exit. */
  private sync: Destination | undefined;
  private failed = false;
  /** Bytes in the current file, and when it was started (for rotation). */
  private fileBytes = 0;
  private fileStarted = Date.now();
  /** Destinations of rotated files still writing what they were given. */
  private readonly retiring = new Set<Promise<void>>();
  /** When the file's name was last compared with the open descriptor (shared, not rotating). */
  private followedAt = Date.now();

  constructor(
    private fd: number,
    private readonly file?: string,
    private readonly rotation?: LogRotation,
    private readonly shared = false,
  ) {
    this.dest = this.destination(fd);
    if (file) this.fileBytes = fstatSync(fd).size;
  }

  private destination(fd: number): Destination {
    const dest = pino.destination({ fd, sync: false });
    dest.on('drain', () => {
      if (dest !== this.dest) return;
      this.pending = false;
      this.wake();
    });
    dest.on('error', (err: Error) => {
      // A failing sink must not stop the proxy, nor leave shutdown waiting for bytes that never land.
      if (!this.failed) process.stderr.write(`llm-proxy: writing the log failed: ${err.message}\n`);
      this.failed = true;
      this.pending = false;
      this.wake();
    });
    return dest;
  }

  write(line: string): boolean {
    if (this.sync) return this.sync.write(line);
    if (this.shared) return this.writeShared(line);
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes >= BUFFER_BYTES) this.handOver();
    return true;
  }

  /** Blocks end before they pass PIPE_BUF bytes (a single longer line goes alone, and may mix on a pipe). */
  private writeShared(line: string): boolean {
    const n = Buffer.byteLength(line);
    if (this.bytes + n > PIPE_BUF) this.handOver();
    this.lines.push(line);
    this.bytes += n;
    if (this.bytes >= PIPE_BUF) this.handOver();
    return true;
  }

  /**
   * pino's `logger.flush(cb)` lands here (see flushLogger): calls back once every line so far is
   * written, and switches to synchronous writes for whatever is logged after it.
   */
  flush(cb?: (err?: Error) => void): void {
    const done = () => {
      this.sync ??= pino.destination({ fd: this.fd, sync: true });
      if (this.lines.length > 0) {
        const block = this.lines.join('');
        this.lines = [];
        this.bytes = 0;
        this.sync.write(block);
      }
      cb?.();
    };
    const afterRetired = () => {
      if (this.retiring.size === 0) done();
      else void Promise.all(this.retiring).then(done);
    };
    if (this.pending) this.waiting.push(afterRetired);
    else afterRetired();
  }

  /**
   * pino calls this after every `fatal` line. The collected lines are written synchronously now,
   * unless a block is still being written asynchronously: written now, they would land before it
   * (a fatal error's line ahead of the lines that led to it). They then wait here for `flush`, which
   * writes them once that block is out, or for the exit handler.
   */
  flushSync(): void {
    if (this.pending && !this.failed) return;
    this.exitFlush();
  }

  /**
   * On exit, with no event loop left: what sonic-boom has queued, then the lines collected here,
   * written synchronously. Only an asynchronous write already in flight (a crash or a second
   * signal, not a graceful stop) is beyond reach.
   */
  exitFlush(): void {
    if (this.lines.length === 0) return;
    const block = this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    if (!this.sync) {
      try {
        this.dest.flushSync();
      } catch {
        // Nothing queued can be written now; the collected lines below are still tried.
      }
      this.sync = pino.destination({ fd: this.fd, sync: true });
    }
    this.sync.write(block);
  }

  handOver(): void {
    if (this.lines.length === 0) return;
    const block = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    this.lines = [];
    this.bytes = 0;
    // Before writing: lines go to the file at the path, not to one another process renamed away.
    if (this.shared && this.file && !this.rotation) this.follow(this.file);
    // A failed sink may never drain again (EPIPE turns its writes into no-ops).
    if (!this.failed) this.pending = true;
    this.dest.write(block);
    this.fileBytes += Buffer.byteLength(block);
    if (this.dueForRotation()) this.rotate();
  }

  /** Another process rotated the file (renamed it): carry on in the new file at the path. */
  private follow(file: string): void {
    if (Date.now() - this.followedAt < FOLLOW_MS) return;
    this.followedAt = Date.now();
    try {
      if (statSync(file, { throwIfNoEntry: false })?.ino === fstatSync(this.fd).ino) return;
      this.switchTo(openLogFile(file));
    } catch (err) {
      process.stderr.write(`llm-proxy: reopening the log failed: ${(err as Error).message}\n`);
    }
  }

  private dueForRotation(): boolean {
    const r = this.rotation;
    if (!r || !this.file) return false;
    return (
      (r.maxBytes > 0 && this.fileBytes >= r.maxBytes) ||
      (r.intervalMs > 0 && Date.now() - this.fileStarted >= r.intervalMs)
    );
  }

  /**
   * Renames the file to `file.1` (shifting older ones up, deleting past `keep`) and carries on in
   * a new file at the path. Writes still in flight land in the renamed file: they go to its
   * descriptor, not its name. Renames are metadata operations; the writes stay asynchronous.
   */
  private rotate(): void {
    const file = this.file as string;
    const rotation = this.rotation as LogRotation;
    try {
      rmSync(`${file}.${rotation.keep}`, { force: true });
      for (let i = rotation.keep - 1; i >= 1; i--) {
        try {
          renameSync(`${file}.${i}`, `${file}.${i + 1}`);
        } catch {}
      }
      renameSync(file, `${file}.1`);
      this.switchTo(openLogFile(file));
    } catch (err) {
      process.stderr.write(`llm-proxy: rotating the log failed: ${(err as Error).message}\n`);
    }
    this.fileBytes = 0;
    this.fileStarted = Date.now();
  }

  /** Writes go to `fd` from now on; the old destination drains into its file on its own, and a flush waits for it. */
  private switchTo(fd: number): void {
    const old = this.dest;
    const retired = new Promise<void>((resolve) => {
      old.once('close', () => resolve());
      old.once('error', () => resolve());
    });
    this.retiring.add(retired);
    void retired.then(() => this.retiring.delete(retired));
    old.end();
    this.fd = fd;
    this.dest = this.destination(fd);
    this.pending = false;
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w();
  }
}

/** Every batcher, so one exit handler writes out all of them. */
const batchers = new Set<LineBatcher>();

/**
 * LOG_FILE is opened here, synchronously, before anything else starts: an unusable path stops the
 * start with a message naming the setting, and the descriptor is ready before the first line.
 */
function openLogFile(file: string): number {
  return openPrivateFile(file, 'LOG_FILE');
}

/**
 * Opens a file llm-proxy appends to (a log, the audit file): private (0600) like every file it
 * writes, an existing one made so too. A path that cannot be opened is a configuration error naming
 * `setting`.
 */
export function openPrivateFile(file: string, setting: string): number {
  let fd: number;
  try {
    makeDir(path.dirname(path.resolve(file)));
    fd = openSync(file, 'a', 0o600);
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration:\n  ${setting}: cannot open ${file} for appending: ${(err as Error).message}`,
    );
  }
  try {
    fchmodSync(fd, 0o600);
  } catch {
    // Someone else's file that we may append to: its owner chose its mode.
  }
  return fd;
}

/**
 * JSON-lines logger. Output goes through an asynchronous sonic-boom destination fed in blocks
 * (see LineBatcher), so a slow disk or pipe never blocks a request and lines cost one write per
 * ~4 KiB, not one each. Lines reach the sink within FLUSH_INTERVAL_MS; `flushLogger` waits until
 * they are on disk, and lines still collected at exit are written synchronously.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const options = {
    level: opts.level,
    base: { service: 'llm-proxy', ...opts.fields },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (opts.stream) return pino(options, opts.stream);
  const batcher = opts.file
    ? new LineBatcher(openLogFile(opts.file), opts.file, opts.rotation, opts.shared)
    : new LineBatcher(opts.fd ?? 1, undefined, undefined, opts.shared);
  setInterval(() => batcher.handOver(), FLUSH_INTERVAL_MS).unref();
  if (batchers.size === 0) {
    process.once('exit', () => {
      for (const b of batchers) b.exitFlush();
    });
  }
  batchers.add(batcher);
  return pino(options, batcher);
}

/**
 * Resolves once every line logged so far is written; lines logged afterwards are written
 * synchronously. Call it when shutting down, before `process.exit()`.
 */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

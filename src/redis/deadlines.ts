/**
 * Deadlines of a connection's calls, all with the same timeout: they expire in the order they
 * started, so one timer armed for the oldest serves them all (a timer per call cost a Timeout, a
 * timer-list insertion and a clearTimeout on every command of the hot path). A call that ends
 * marks its entry done; the timer skips such entries when it runs.
 */
interface Entry {
  at: number;
  done: boolean;
  reject: (err: Error) => void;
}

export class Deadlines {
  private queue: Entry[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** `call`'s outcome, or a rejection once the timeout has passed without one. */
  race<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Entry = { at: performance.now() + this.timeoutMs, done: false, reject };
      this.queue.push(entry);
      if (!this.timer) this.arm(this.timeoutMs);
      call.then(
        (v) => {
          entry.done = true;
          resolve(v);
        },
        (err) => {
          entry.done = true;
          reject(err);
        },
      );
    });
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.ceil(ms)));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    const q = this.queue;
    while (this.head < q.length) {
      const e = q[this.head] as Entry;
      if (!e.done && e.at > now) break;
      this.head++;
      if (e.done) continue;
      // The deadline gives way to a reply already received: after a stalled event loop the timer
      // runs before the socket is read, and would fail a call Redis answered in time.
      setImmediate(() => {
        if (!e.done) {
          e.done = true;
          e.reject(new Error(`no reply within ${this.timeoutMs} ms`));
        }
      });
    }
    // Compact once the expired prefix is most of the array.
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
    const next = this.queue[this.head];
    if (next) this.arm(next.at - now);
    else {
      this.queue = [];
      this.head = 0;
    }
  }
}

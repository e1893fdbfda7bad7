import { performance } from 'node:perf_hooks';

/** Told once what became of its wait: `true`, the slot is its own now; `false`, it timed out or the gate shut. */
export interface SlotWaiter {
  onSlot(granted: boolean): void;
}

export interface GateOptions {
  /** Slots: the pool's connections, one request each (HTTP/1.1, no pipelining). */
  slots: number;
  /** Longest wait for a slot; 0 = no waiting. */
  queueTimeoutMs: number;
  /** Most requests waiting at once; 0 = no waiting. */
  queueLimit: number;
  /** Most slots, held or waited for, one token and one project may take (100 = no share limit). */
  tenantSharePercent: number;
}

/** What `acquire` did. */
export const Acquired = {
  /** A slot is the caller's now (the common case: a counter went up, nothing else). */
  Taken: 0,
  /** Every slot is busy; the waiter hears back through `onSlot`. */
  Queued: 1,
  /** The token or the project already holds (or waits for) its share of the slots. */
  OverShare: 2,
  /** Every slot is busy and no more may wait. */
  Full: 3,
} as const;
export type Acquired = (typeof Acquired)[keyof typeof Acquired];

/** What one token or project holds: slots on this origin, or bytes of bodies (body-memory.ts). */
interface Share {
  n: number;
}

interface Waiting {
  waiter: SlotWaiter;
  tokenId: string;
  projectId: string;
  deadline: number;
}

/**
 * The connection slots of one upstream origin, in front of its undici Pool. undici queues requests
 * for a connection without a time limit and without regard to who sent them; here a request is
 * dispatched only when a slot is free, waits at most `queueTimeoutMs` in a bounded FIFO otherwise,
 * and no token or project may take more than its share of the slots, so one tenant's slow or held
 * requests cannot starve the others. Waits are timed by one timer for the whole queue (the head
 * always has the nearest deadline, since every wait has the same limit).
 */
export class UpstreamGate {
  /** Slots in use (requests dispatched or about to be). */
  active = 0;
  /** Most slots one token or project may take. */
  readonly shareCap: number;
  private readonly queue: Waiting[] = [];
  private readonly byToken = new Shares();
  private readonly byProject = new Shares();
  private readonly shared: boolean;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: GateOptions) {
    this.shared = opts.tenantSharePercent < 100;
    this.shareCap = this.shared ? Math.max(1, Math.floor((opts.slots * opts.tenantSharePercent) / 100)) : opts.slots;
  }

  get slots(): number {
    return this.opts.slots;
  }

  get queueTimeoutMs(): number {
    return this.opts.queueTimeoutMs;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Takes a slot, or queues `waiter` for one, or says why neither is possible. */
  acquire(tokenId: string, projectId: string, waiter: SlotWaiter): Acquired {
    if (this.shared) {
      const t = this.byToken.of(tokenId);
      const p = this.byProject.of(projectId);
      if (t.n >= this.shareCap || p.n >= this.shareCap) return Acquired.OverShare;
      if (this.active < this.opts.slots) {
        t.n++;
        p.n++;
        this.active++;
        return Acquired.Taken;
      }
      if (!this.canQueue()) return Acquired.Full;
      t.n++;
      p.n++;
    } else {
      if (this.active < this.opts.slots) {
        this.active++;
        return Acquired.Taken;
      }
      if (!this.canQueue()) return Acquired.Full;
    }
    this.queue.push({ waiter, tokenId, projectId, deadline: performance.now() + this.opts.queueTimeoutMs });
    this.timer ??= setTimeout(() => this.expire(), this.opts.queueTimeoutMs).unref();
    return Acquired.Queued;
  }

  /** Gives a slot back: to the longest waiter if there is one (it keeps the slot in use), else to the pool. */
  release(tokenId: string, projectId: string): void {
    this.forget(tokenId, projectId);
    const next = this.queue.shift();
    if (next) next.waiter.onSlot(true);
    else this.active--;
  }

  /** Takes a waiter out of the queue (its client left); false if it was not waiting. */
  cancel(waiter: SlotWaiter): boolean {
    const i = this.queue.findIndex((w) => w.waiter === waiter);
    if (i === -1) return false;
    const [w] = this.queue.splice(i, 1) as [Waiting];
    this.forget(w.tokenId, w.projectId);
    return true;
  }

  /** Refuses everything waiting and anything that would wait (shutdown deadline). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) {
      this.forget(w.tokenId, w.projectId);
      w.waiter.onSlot(false);
    }
  }

  private canQueue(): boolean {
    return (
      !this.closed &&
      this.opts.queueTimeoutMs > 0 &&
      this.opts.queueLimit > 0 &&
      this.queue.length < this.opts.queueLimit
    );
  }

  private forget(tokenId: string, projectId: string): void {
    if (!this.shared) return;
    this.byToken.of(tokenId).n--;
    this.byProject.of(projectId).n--;
  }

  /** Fails the waits whose deadline has passed, then sleeps until the next one's. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0] as Waiting).deadline <= now) {
      const w = this.queue.shift() as Waiting;
      this.forget(w.tokenId, w.projectId);
      w.waiter.onSlot(false);
    }
    const head = this.queue[0];
    if (head) this.timer = setTimeout(() => this.expire(), Math.max(1, head.deadline - now)).unref();
  }
}

/**
 * Share counters by token or project id. A counter stays when it drops to zero (a request then
 * costs two lookups and no insertion); idle ones are swept out whenever the map has doubled, so
 * it holds about as many entries as there are tenants with requests in flight.
 */
export class Shares {
  private readonly map = new Map<string, Share>();
  private sweepAt = 1024;

  of(id: string): Share {
    let share = this.map.get(id);
    if (share === undefined) {
      if (this.map.size >= this.sweepAt) this.sweep();
      share = { n: 0 };
      this.map.set(id, share);
    }
    return share;
  }

  private sweep(): void {
    for (const [id, share] of this.map) if (share.n === 0) this.map.delete(id);
    this.sweepAt = Math.max(1024, this.map.size * 2);
  }
}

import { performance } from 'node:perf_hooks';

/** Not ready again until in flight has fallen to this share of the limit… */
const RESUME_RATIO = 0.9;
/** …and nothing has been shed for this long, so a load hovering at the limit does not flap /ready. */
export const RESUME_AFTER_MS = 2_000;

/**
 * The instance's limit on requests in flight (PROXY_MAX_IN_FLIGHT). A request arriving at the
 * limit is shed: answered 503 at once, unread, before any lookup. While it sheds, and until the
 * load has clearly dropped (hysteresis by count and by time), the instance reports itself not
 * ready, so a load balancer moves new traffic elsewhere. Admitting costs one comparison; the
 * recovery is worked out only when someone asks (`shedding`), so no timer runs.
 */
export class LoadShedder {
  /** Requests shed since start. */
  shed = 0;
  /** In flight at or below which shedding can end. */
  readonly resumeAt: number;
  private latched = false;
  private lastShedAt = 0;

  constructor(
    readonly limit: number,
    private readonly inFlight: () => number,
    /** Milliseconds on a monotonic clock (a test moves its own). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.resumeAt = Math.floor(limit * RESUME_RATIO);
  }

  /** Whether a request arriving with `inFlight` others in flight is to be shed (and counts it if so). */
  refuses(inFlight: number): boolean {
    if (inFlight < this.limit) return false;
    this.shed++;
    this.latched = true;
    this.lastShedAt = this.now();
    return true;
  }

  /** From the first shed request until in flight is at `resumeAt` and nothing was shed for RESUME_AFTER_MS. */
  get shedding(): boolean {
    if (this.latched && this.inFlight() <= this.resumeAt && this.now() - this.lastShedAt >= RESUME_AFTER_MS)
      this.latched = false;
    return this.latched;
  }
}

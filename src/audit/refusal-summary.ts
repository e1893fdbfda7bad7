import { toIso } from '../shared/clock.js';
import type { AuditDraft } from './audit-event.js';

const MINUTE = 60_000;
/** Distinct client addresses listed per summary; further ones only set `more_client_ips`. */
const MAX_IPS = 10;

interface Bucket {
  minute: number;
  tokenId: string | undefined;
  projectId: string | undefined;
  reason: string;
  count: number;
  firstRequestId: string;
  ips: Set<string>;
  moreIps: boolean;
}

/**
 * Refused proxy requests, counted in memory per minute, token and reason, so that an attack with
 * bad tokens costs the audit table one row per minute and reason, not one per request. `note` runs
 * on the request path: a map lookup and a counter, no I/O. `take` hands over the minutes that have
 * ended (every minute when closing), as `proxy.refused` events; unknown tokens count under none.
 */
export class RefusalSummary {
  private buckets = new Map<string, Bucket>();

  constructor(private readonly keepIps: boolean) {}

  get pending(): number {
    return this.buckets.size;
  }

  note(
    now: number,
    tokenId: string | undefined,
    projectId: string | undefined,
    reason: string,
    ip: string | undefined,
    requestId: string,
  ): void {
    const minute = now - (now % MINUTE);
    const key = `${minute}|${tokenId ?? ''}|${reason}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { minute, tokenId, projectId, reason, count: 0, firstRequestId: requestId, ips: new Set(), moreIps: false };
      this.buckets.set(key, b);
    }
    b.count++;
    if (this.keepIps && ip !== undefined && !b.ips.has(ip)) {
      if (b.ips.size < MAX_IPS) b.ips.add(ip);
      else b.moreIps = true;
    }
  }

  /** Removes and returns the summaries of minutes before `now`'s (all of them with `all`). */
  take(now: number, all = false): RefusalBatch {
    const current = now - (now % MINUTE);
    const taken: Bucket[] = [];
    for (const [key, b] of this.buckets) {
      if (all || b.minute < current) {
        taken.push(b);
        this.buckets.delete(key);
      }
    }
    taken.sort((a, b) => a.minute - b.minute);
    return { drafts: taken.map(toDraft), restore: () => this.restore(taken) };
  }

  /** Puts summaries back whose write failed: counted with what arrived since, written next time. */
  private restore(taken: readonly Bucket[]): void {
    for (const b of taken) {
      const key = `${b.minute}|${b.tokenId ?? ''}|${b.reason}`;
      const now = this.buckets.get(key);
      if (!now) {
        this.buckets.set(key, b);
        continue;
      }
      now.count += b.count;
      now.firstRequestId = b.firstRequestId;
      for (const ip of b.ips) if (now.ips.size < MAX_IPS) now.ips.add(ip);
      now.moreIps ||= b.moreIps;
    }
  }
}

export interface RefusalBatch {
  drafts: AuditDraft[];
  /** Call when writing them failed. */
  restore(): void;
}

function toDraft(b: Bucket): AuditDraft {
  const ips = [...b.ips];
  return {
    action: 'proxy.refused',
    actor: b.tokenId ? { type: 'token', id: b.tokenId } : { type: 'anonymous', id: null },
    target: { type: 'token', id: b.tokenId ?? null },
    // One address: it is the event's; several are listed in the details.
    clientIp: ips.length === 1 && !b.moreIps ? ips[0] : undefined,
    requestId: b.firstRequestId,
    details: {
      reason: b.reason,
      count: b.count,
      minute: toIso(b.minute),
      ...(b.projectId ? { project_id: b.projectId } : {}),
      ...(ips.length > 0 ? { client_ips: ips } : {}),
      ...(b.moreIps ? { more_client_ips: true } : {}),
    },
  };
}

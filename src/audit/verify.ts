import type { AuditRepo, ChainHead } from '../store/audit-repo.js';
import type { AuditEventRow } from '../store/schema.js';
import type { AuditChain } from './chain.js';

/** The first thing wrong with the chain, at the event where it shows. */
export interface BrokenLink {
  /** `edited`: a row's fields or hash changed; `deleted`: events are missing; `inserted`: a row the proxy did not write; `unknown_key`: signed with a key not configured. */
  kind: 'edited' | 'deleted' | 'inserted' | 'unknown_key';
  seq: number;
  id: string | null;
  message: string;
}

export type VerifyResult =
  | { ok: true; events: number; firstSeq: number | null; lastSeq: number | null; prunedThrough: number | null }
  | { ok: false; checked: number; broken: BrokenLink };

/** Events read per query while walking. */
const PAGE = 1000;

interface Anchor {
  through: number;
  lastHash: string;
}

/**
 * Walks the whole chain in seq order and reports the first broken link. Each event must carry the
 * hash its fields give under the key that signed it, follow the one before (seq + 1, prev_hash =
 * its hash) and, for the last, be the head. The first event is either the genesis (seq 1, no
 * prev_hash) or follows events removed by retention: an authentic `audit.pruned` event later in the
 * chain names the last one removed (seq and hash).
 */
export async function verifyChain(repo: AuditRepo, chain: AuditChain): Promise<VerifyResult> {
  const head = await repo.head();
  const anchors: Anchor[] = [];
  let first: AuditEventRow | undefined;
  let prev: AuditEventRow | undefined;
  let checked = 0;
  let page = await repo.after(0, PAGE);
  // A lookahead of one row tells an edited row (the next still links to it) from an inserted one.
  let i = 0;
  const next = async (): Promise<AuditEventRow | undefined> => {
    if (i < page.length) return page[i++];
    const last = page[page.length - 1];
    if (!last) return undefined;
    page = await repo.after(last.seq, PAGE);
    i = 0;
    return page[i++];
  };
  let row = await next();
  while (row) {
    const after = await next();
    const broken = checkRow(row, prev, after, head, chain);
    if (broken) return { ok: false, checked, broken };
    if (row.action === 'audit.pruned') {
      const d = parseDetails(row.details);
      if (typeof d.through_seq === 'number' && typeof d.last_hash === 'string') {
        anchors.push({ through: d.through_seq, lastHash: d.last_hash });
      }
    }
    first ??= row;
    prev = row;
    checked++;
    row = after;
  }

  if (first && !(first.seq === 1 && first.prev_hash === '')) {
    const covering = anchors.filter((a) => a.through >= first.seq - 1);
    const exact = anchors.find((a) => a.through === first.seq - 1);
    if (covering.length === 0) {
      return {
        ok: false,
        checked,
        broken: {
          kind: 'deleted',
          seq: first.seq - 1,
          id: null,
          message: `the chain starts at seq ${first.seq}: events 1–${first.seq - 1} are missing and no audit.pruned event accounts for them`,
        },
      };
    }
    if (exact && exact.lastHash !== first.prev_hash) {
      return {
        ok: false,
        checked,
        broken: {
          kind: 'inserted',
          seq: first.seq,
          id: first.id,
          message: `seq ${first.seq} does not follow the last pruned event (its prev_hash is not the hash audit.pruned recorded)`,
        },
      };
    }
  }
  const lastSeq = prev?.seq ?? 0;
  if (head.seq > lastSeq || (prev && head.hash !== prev.hash)) {
    return {
      ok: false,
      checked,
      broken: {
        kind: 'deleted',
        seq: lastSeq + 1,
        id: null,
        message:
          head.seq > lastSeq
            ? `events ${lastSeq + 1}–${head.seq} are missing: the chain's head is at seq ${head.seq}, the last event is ${lastSeq === 0 ? 'none' : `seq ${lastSeq}`}`
            : `the last event (seq ${lastSeq}) is not the one the chain's head recorded`,
      },
    };
  }
  const prunedThrough = anchors.length > 0 ? Math.max(...anchors.map((a) => a.through)) : null;
  return { ok: true, events: checked, firstSeq: first?.seq ?? null, lastSeq: prev?.seq ?? null, prunedThrough };
}

function checkRow(
  row: AuditEventRow,
  prev: AuditEventRow | undefined,
  after: AuditEventRow | undefined,
  head: ChainHead,
  chain: AuditChain,
): BrokenLink | undefined {
  const at = { seq: row.seq, id: row.id };
  if (prev && row.seq === prev.seq) {
    return { kind: 'inserted', ...at, message: `seq ${row.seq} appears twice (id ${row.id} is the second)` };
  }
  if (prev && row.seq > prev.seq + 1) {
    const gap = row.seq === prev.seq + 2 ? `seq ${prev.seq + 1} is` : `events ${prev.seq + 1}–${row.seq - 1} are`;
    return {
      kind: 'deleted',
      seq: prev.seq + 1,
      id: null,
      message: `${gap} missing (between seq ${prev.seq} and ${row.seq})`,
    };
  }
  const sealed = chain.check(row);
  if (sealed === 'unknown_key') {
    return {
      kind: 'unknown_key',
      ...at,
      message: `seq ${row.seq} was signed with key ${row.key_id}, which is not configured: set the ENCRYPTION_KEY (or ENCRYPTION_KEY_PREVIOUS) it was written under`,
    };
  }
  if (sealed === 'mismatch') {
    if (row.seq > head.seq) {
      return {
        kind: 'inserted',
        ...at,
        message: `seq ${row.seq} (id ${row.id}) is beyond the chain's head (seq ${head.seq}) and not signed by the audit key`,
      };
    }
    // What comes next (the next event, or the head for the last) still links to this row, by its
    // stored hash or by the hash its fields should have: the row was edited in place.
    const link = after ? after.prev_hash : row.seq === head.seq ? head.hash : undefined;
    const linked = link !== undefined && (link === row.hash || link === chain.expectedHash(row));
    return linked
      ? {
          kind: 'edited',
          ...at,
          message: `seq ${row.seq} (id ${row.id}) was edited: its hash does not match its fields`,
        }
      : {
          kind: 'inserted',
          ...at,
          message: `seq ${row.seq} (id ${row.id}) was not written by the proxy: its hash does not match, and the next event does not follow it (inserted, or edited with the rows after it)`,
        };
  }
  if (prev && row.prev_hash !== prev.hash) {
    return {
      kind: 'inserted',
      ...at,
      message: `seq ${row.seq} does not follow seq ${prev.seq} (its prev_hash is another event's hash)`,
    };
  }
  return undefined;
}

function parseDetails(text: string | null): Record<string, unknown> {
  try {
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  } catch {
    return {};
  }
}

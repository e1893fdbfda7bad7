import { toIso } from '../shared/clock.js';
import type { AuditEventRow } from '../store/schema.js';
import type { Changes } from './audit-event.js';

/** An audit event as the API, the CLI and the audit file show it: the row with its time in RFC 3339 and its JSON parsed. */
export interface AuditEventView extends Omit<AuditEventRow, 'time' | 'changes' | 'details'> {
  time: string;
  changes: Changes | null;
  details: Record<string, unknown> | null;
}

export function toAuditView(row: AuditEventRow): AuditEventView {
  return {
    id: row.id,
    seq: row.seq,
    time: toIso(row.time) as string,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    client_ip: row.client_ip,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    changes: parse(row.changes) as Changes | null,
    details: parse(row.details) as Record<string, unknown> | null,
    request_id: row.request_id,
    key_id: row.key_id,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/** Stored JSON; a value that no longer parses (an edited row) is shown as the text it holds. */
function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}

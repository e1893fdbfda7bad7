/**
 * What an audit event says, before it is sealed into the chain. Every action is listed here, with
 * its target and fields in docs/observability.md#audit-trail; a test holds the two together. One
 * naming scheme: `<subject>.<what happened>`, the subject singular (`token.batch_created`, never
 * `tokens.…`), so `token.*` finds everything that happened to tokens.
 */
export const AUDIT_ACTIONS = [
  'project.created',
  'project.updated',
  'project.key_rotated',
  'project.key_added',
  'project.key_updated',
  'project.key_removed',
  'project.deleted',
  'project.tokens_revoked',
  'project.cache_purged',
  'token.created',
  'token.updated',
  'token.revoked',
  'token.batch_created',
  'token.batch_revoked',
  'token.deleted',
  'pricing.set',
  'pricing.unset',
  'encryption.rekeyed',
  'management.auth_failed',
  'management.access_denied',
  'session.signed_in',
  'session.sign_in_failed',
  'session.signed_out',
  'session.ended',
  'user.created',
  'user.updated',
  'user.password_changed',
  'user.deleted',
  'proxy.refused',
  'audit.pruned',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * Names that events were recorded under before the scheme above, and the action each is now.
 * Stored events keep the name they were sealed with (the chain's hashes cover it, so it is never
 * rewritten); filters treat an old name and its new one as the same action.
 */
export const RENAMED_ACTIONS: Readonly<Record<string, AuditAction>> = {
  'tokens.batch_created': 'token.batch_created',
  'tokens.batch_revoked': 'token.batch_revoked',
  'tokens.deleted': 'token.deleted',
};

/**
 * Who did it: the management token (as a bearer token, or a session signed in with it), an admin
 * user (`user`: an admin_users id, or `oidc:<subject>` for single sign-on), the proxy itself
 * (`system`, id `maintenance` or `cli`), a proxy token (its refused requests), someone who presented
 * no valid credential (`anonymous`).
 */
export type ActorType = 'management-token' | 'system' | 'token' | 'anonymous' | 'user';
export interface Actor {
  type: ActorType;
  id: string | null;
}

export const MANAGEMENT_TOKEN: Actor = { type: 'management-token', id: null };
export const systemActor = (name: 'maintenance' | 'cli'): Actor => ({ type: 'system', id: name });

/** Where and by whom a change was asked for. */
export interface AuditContext {
  actor: Actor;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}

/** The changed fields only: `before` null on creation, `after` null on deletion. */
export interface Changes {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface AuditDraft {
  action: AuditAction;
  target?: { type: string; id: string | null } | undefined;
  changes?: Changes | undefined;
  /** Anything else the event says: counts, ids, a filter, a reason. Never a secret. */
  details?: Record<string, unknown> | undefined;
  /** Overrides the context's (a refusal summary is its token's). */
  actor?: Actor | undefined;
  clientIp?: string | undefined;
  requestId?: string | undefined;
}

/** Ids listed in one event at most (a batch can be larger; its count is always exact). */
export const MAX_LISTED_IDS = 1000;

/** `{ token_ids, token_ids_truncated? }` for a list of ids, cut at MAX_LISTED_IDS. */
export function listedIds(name: string, ids: readonly string[]): Record<string, unknown> {
  return ids.length > MAX_LISTED_IDS
    ? { [name]: ids.slice(0, MAX_LISTED_IDS), [`${name}_truncated`]: true }
    : { [name]: [...ids] };
}

/** The fields of an API view that an event records: all but those named (ids, counters, times). */
export function fieldsOf<T extends object>(view: T, omit: readonly (keyof T)[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(view).filter(([k]) => !omit.includes(k as keyof T)));
}

/** Before and after of the fields that differ; undefined when none does. */
export function diff(before: Record<string, unknown>, after: Record<string, unknown>): Changes | undefined {
  const b: Record<string, unknown> = {};
  const a: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    b[key] = before[key] ?? null;
    a[key] = after[key] ?? null;
  }
  return Object.keys(a).length === 0 ? undefined : { before: b, after: a };
}

export const created = (after: Record<string, unknown>): Changes => ({ before: null, after });
export const deleted = (before: Record<string, unknown>): Changes => ({ before, after: null });

import { createHash, randomBytes } from 'node:crypto';
import type { AuditContext, AuditDraft } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { uuidv7 } from '../crypto/ids.js';
import { sha256Hex } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type Clock, toIso } from '../shared/clock.js';
import type { AdminSessionsRepo } from '../store/admin-sessions-repo.js';
import type { PageRequest } from '../store/pagination.js';
import type { Repos } from '../store/repos.js';
import type { AdminSessionRow } from '../store/schema.js';
import { type AccessUser, actorOf, type SignInMethod } from './principal.js';
import { isRole } from './roles.js';

export interface SessionSettings {
  /** A session unused this long ends (ADMIN_SESSION_IDLE_MINUTES). */
  idleMs: number;
  /** A session ends this long after sign-in (ADMIN_SESSION_MAX_HOURS). */
  maxMs: number;
  /** Store the client's address with the session (AUDIT_CLIENT_IP). */
  clientIp: boolean;
}

/** last_seen_at is written at most this often per session, however many requests it makes. */
export const TOUCH_INTERVAL_MS = 60_000;
/**
 * The written last_seen_at lags the last request by up to the write interval, which ends an idle
 * session that much early: the interval is kept to this share of the idle time (a 1-minute idle
 * time gets a write at most every 6 s), so a session whose requests come less than 90% of the idle
 * time apart never ends for idleness, at any setting.
 */
const TOUCH_SHARE_OF_IDLE = 0.1;

const USER_AGENT_MAX = 256;

/** Where a sign-in came from (kept with the session for the admins' list). */
export interface ClientInfo {
  clientIp?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

/** A session that is valid now, found from its cookie. */
export interface LiveSession {
  row: AdminSessionRow;
  user: AccessUser;
  /** The CSRF token every state-changing request of this session must carry. */
  csrfToken: string;
}

/** What `POST /manage/session` and `GET /manage/session` answer. */
export interface SessionView {
  session_id: string;
  user: AccessUser;
  auth_method: SignInMethod;
  csrf_token: string;
  created_at: string;
  expires_at: string;
  idle_expires_at: string;
}

/** One line of an admin's `GET /manage/sessions`: never the cookie, never the CSRF token. */
export interface SessionListItem {
  id: string;
  /** The last 4 characters of the cookie value, to tell one's own sessions apart. */
  id_hint: string;
  user: AccessUser;
  auth_method: SignInMethod;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  idle_expires_at: string;
  client_ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/** The CSRF token of a session: derived from its secret, so it is stored nowhere and useless without the cookie. */
const csrfOf = (secret: string) => createHash('sha256').update(`llmp-csrf:${secret}`).digest('base64url');

const userOf = (row: AdminSessionRow): AccessUser => ({
  id: row.user_id,
  username: row.username,
  role: isRole(row.role) ? row.role : 'viewer',
});

/**
 * Server-side sessions of the management API (the admin UI). The cookie holds 32 random bytes; the
 * database holds their SHA-256 only, so a copy of the table signs nobody in. A session ends on
 * sign-out, when an admin ends it, when its user is disabled, deleted or given a new password, after
 * `idleMs` without a request, and `maxMs` after sign-in, whichever comes first; every instance on
 * the database sees each of these at once, since every request reads its session from the store.
 */
export class SessionsService {
  /** How often last_seen_at is written at most: a minute, or a tenth of the idle time if less. */
  private readonly touchIntervalMs: number;

  constructor(
    private readonly repo: AdminSessionsRepo,
    private readonly audit: AuditTrail,
    private readonly now: Clock,
    private readonly settings: SessionSettings,
  ) {
    this.touchIntervalMs = Math.min(TOUCH_INTERVAL_MS, Math.floor(settings.idleMs * TOUCH_SHARE_OF_IDLE));
  }

  /**
   * Signs a user in: stores the session and appends `session.signed_in` in one transaction, with the
   * user as actor. `also` runs in the same transaction (a password user's last sign-in time).
   * Returns the cookie's value (shown to nobody but the browser) and the session.
   */
  async create(
    user: AccessUser,
    method: SignInMethod,
    client: ClientInfo,
    details: Record<string, unknown> = {},
    also?: (repos: Repos, now: number) => Promise<void>,
  ): Promise<{ secret: string; session: LiveSession }> {
    const secret = randomBytes(32).toString('base64url');
    const now = this.now();
    const row: AdminSessionRow = {
      id: uuidv7(now),
      secret_hash: sha256Hex(secret),
      secret_hint: secret.slice(-4),
      user_id: user.id,
      username: user.username,
      role: user.role,
      method,
      client_ip: this.settings.clientIp ? (client.clientIp ?? null) : null,
      user_agent: client.userAgent ? client.userAgent.slice(0, USER_AGENT_MAX) : null,
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.settings.maxMs,
    };
    const ctx: AuditContext = { actor: actorOf(user), clientIp: client.clientIp, requestId: client.requestId };
    await this.audit.change(ctx, async (tx) => {
      await tx.repos.sessions.insert(row);
      await also?.(tx.repos, now);
      tx.record({
        action: 'session.signed_in',
        target: { type: 'session', id: row.id },
        details: { method, username: user.username, role: user.role, ...details },
      });
    });
    return { secret, session: { row, user, csrfToken: csrfOf(secret) } };
  }

  /**
   * The session of a cookie value, if it is valid now; moves its last-seen time forward at most once
   * per touch interval (one write per session per minute at most, not one per request).
   */
  async resolve(secret: string): Promise<LiveSession | undefined> {
    const row = await this.repo.findByHash(sha256Hex(secret));
    const now = this.now();
    if (!row || this.expired(row, now)) return undefined;
    if (now - row.last_seen_at >= this.touchIntervalMs) {
      await this.repo.touch(row.id, now, now - this.touchIntervalMs);
      row.last_seen_at = now;
    }
    return { row, user: userOf(row), csrfToken: csrfOf(secret) };
  }

  /** Ends a session: `session.signed_out` by its own user, `session.ended` by an admin. 404 when it is not there. */
  async end(id: string, ctx: AuditContext, action: 'session.signed_out' | 'session.ended'): Promise<void> {
    await this.audit.change(ctx, async (tx) => {
      const row = await tx.repos.sessions.findById(id);
      if (!row || !(await tx.repos.sessions.delete(id))) throw errors.notFound('session', id);
      tx.record(endedEvent(row, action));
    });
  }

  async list(
    page: PageRequest,
    currentId: string | undefined,
  ): Promise<{ data: SessionListItem[]; next_cursor: string | null }> {
    const now = this.now();
    const res = await this.repo.listLive(now, now - this.settings.idleMs, page);
    return { data: res.rows.map((r) => this.listItem(r, r.id === currentId)), next_cursor: res.nextCursor };
  }

  view(s: LiveSession): SessionView {
    return {
      session_id: s.row.id,
      user: s.user,
      auth_method: s.row.method as SignInMethod,
      csrf_token: s.csrfToken,
      created_at: toIso(s.row.created_at) as string,
      expires_at: toIso(s.row.expires_at) as string,
      idle_expires_at: toIso(this.idleExpiry(s.row)) as string,
    };
  }

  /** Deletes the rows of ended sessions (the maintenance job); returns how many. */
  deleteExpired(): Promise<number> {
    const now = this.now();
    return this.repo.deleteExpired(now, now - this.settings.idleMs);
  }

  private listItem(r: AdminSessionRow, current: boolean): SessionListItem {
    return {
      id: r.id,
      id_hint: `…${r.secret_hint}`,
      user: userOf(r),
      auth_method: r.method as SignInMethod,
      created_at: toIso(r.created_at) as string,
      last_seen_at: toIso(r.last_seen_at) as string,
      expires_at: toIso(r.expires_at) as string,
      idle_expires_at: toIso(this.idleExpiry(r)) as string,
      client_ip: r.client_ip,
      user_agent: r.user_agent,
      current,
    };
  }

  private idleExpiry(r: AdminSessionRow): number {
    return Math.min(r.last_seen_at + this.settings.idleMs, r.expires_at);
  }

  private expired(r: AdminSessionRow, now: number): boolean {
    return now >= r.expires_at || now >= r.last_seen_at + this.settings.idleMs;
  }
}

/** The audit event of a session that ended on request. */
export const endedEvent = (row: AdminSessionRow, action: 'session.signed_out' | 'session.ended'): AuditDraft => ({
  action,
  target: { type: 'session', id: row.id },
  details: { user_id: row.user_id, username: row.username, method: row.method },
});

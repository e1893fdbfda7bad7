import { type AuditContext, created, diff, fieldsOf, listedIds } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { uuidv7 } from '../crypto/ids.js';
import { generateToken, maskSecret, sha256Hex } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type LimitInput, limitColumns, NO_LIMITS } from '../limits/limit-fields.js';
import type { Clock } from '../shared/clock.js';
import { tokenChanges } from '../store/changes-repo.js';
import type { PageRequest } from '../store/pagination.js';
import type { NewTokenRow, TokenPatch, TokenRow } from '../store/schema.js';
import type { TokenFilter, TokenOrder, TokensRepo } from '../store/tokens-repo.js';
import { type TokenView, toTokenView } from './token-view.js';

export interface IssueTokenInput extends LimitInput {
  project_id: string;
  name?: string | null | undefined;
  duration_minutes?: number | undefined;
  expires_at?: string | undefined;
}

export interface UpdateTokenInput extends LimitInput {
  name?: string | null | undefined;
  is_active?: boolean | undefined;
  duration_minutes?: number | undefined;
  expires_at?: string | null | undefined;
}

export interface IssueBatchInput extends Omit<IssueTokenInput, 'name'> {
  count: number;
  /** Names become `<prefix>-001`, `<prefix>-002`, …; without a prefix the tokens have no name. */
  name_prefix?: string | undefined;
}

export interface RevokeWhereInput {
  project_id?: string | undefined;
  name_prefix?: string | undefined;
  ids?: string[] | undefined;
  /** Only tokens whose expiry has passed. */
  expired?: true | undefined;
}

/**
 * Called with the ids of tokens whose cached state is stale, so this process's cache drops them at
 * once; other instances learn of the change from the change log the same write appends to.
 */
export type TokenInvalidation = (tokenIds: readonly string[]) => void;

/** What an audit event records of a token: its settings and hint (never the token), not its counters or times. */
const audited = (row: TokenRow, now: number) =>
  fieldsOf(toTokenView(row, now), ['id', 'status', 'request_count', 'last_used_at', 'created_at', 'updated_at']);
const target = (id: string | null) => ({ type: 'token', id });

/** Token rules: expiry, revocation, cache invalidation. Every change is written with its audit event in one transaction. */
export class TokensService {
  private readonly listeners: TokenInvalidation[] = [];

  constructor(
    private readonly tokens: TokensRepo,
    private readonly now: Clock,
    private readonly audit: AuditTrail,
  ) {}

  onInvalidate(fn: TokenInvalidation): void {
    this.listeners.push(fn);
  }

  invalidate(ids: readonly string[]): void {
    if (ids.length > 0) for (const fn of this.listeners) fn(ids);
  }

  async issue(input: IssueTokenInput, ctx: AuditContext): Promise<TokenView & { token: string }> {
    const now = this.now();
    const { token, row: newRow } = newToken(input, input.name ?? null, this.expiry(input, now) ?? null, now);
    const row = await this.audit.change(ctx, async (tx) => {
      if (!(await tx.repos.projects.findById(input.project_id))) throw errors.notFound('project', input.project_id);
      const row = await tx.repos.tokens.insert(newRow);
      tx.record({ action: 'token.created', target: target(row.id), changes: created(audited(row, now)) });
      return row;
    });
    return { ...toTokenView(row, now), token };
  }

  /** Issues `count` tokens with the same settings in one transaction: all are created or none. */
  async issueBatch(input: IssueBatchInput, ctx: AuditContext): Promise<Array<TokenView & { token: string }>> {
    const now = this.now();
    const expiresAt = this.expiry(input, now) ?? null;
    const width = String(input.count).length;
    const plaintexts: string[] = [];
    const rows = Array.from({ length: input.count }, (_, i) => {
      const name = input.name_prefix ? `${input.name_prefix}-${String(i + 1).padStart(width, '0')}` : null;
      const { token, row } = newToken(input, name, expiresAt, now);
      plaintexts.push(token);
      return row;
    });
    const inserted = await this.audit.change(ctx, async (tx) => {
      if (!(await tx.repos.projects.findById(input.project_id))) throw errors.notFound('project', input.project_id);
      const inserted = await tx.repos.tokens.insertMany(rows);
      const first = inserted[0] as TokenRow;
      // The settings every token of the batch shares, once; names and hints differ per token.
      const { name: _name, token_hint: _hint, ...shared } = audited(first, now);
      tx.record({
        action: 'token.batch_created',
        target: { type: 'project', id: input.project_id },
        details: {
          count: inserted.length,
          name_prefix: input.name_prefix ?? null,
          settings: shared,
          ...listedIds(
            'token_ids',
            inserted.map((r) => r.id),
          ),
        },
      });
      return inserted;
    });
    const plainById = new Map(rows.map((r, i) => [r.id, plaintexts[i] as string]));
    this.invalidate(inserted.map((r) => r.id));
    return inserted
      .map((r) => ({ ...toTokenView(r, now), token: plainById.get(r.id) as string }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Revokes every active token that matches all the given conditions (at least one is required, so
   * an empty filter can never revoke everything); the proxy refuses them from their next request.
   */
  async revokeWhere(input: RevokeWhereInput, ctx: AuditContext): Promise<{ revoked: number }> {
    const given = [input.project_id, input.name_prefix, input.ids, input.expired].filter((v) => v !== undefined);
    if (given.length === 0) {
      throw errors.validation('Give at least one of project_id, name_prefix, ids or expired.', null);
    }
    const now = this.now();
    const ids = await this.audit.change(ctx, async (tx) => {
      const ids = await tx.repos.tokens.revokeWhere(
        {
          projectId: input.project_id,
          namePrefix: input.name_prefix,
          ids: input.ids,
          expiredAt: input.expired ? now : undefined,
        },
        now,
      );
      await tx.repos.changes.append(tokenChanges(ids), Date.now());
      tx.record({
        action: 'token.batch_revoked',
        target: target(null),
        details: {
          filter: input,
          revoked: ids.length,
          ...listedIds('token_ids', ids),
        },
      });
      return ids;
    });
    this.invalidate(ids);
    return { revoked: ids.length };
  }

  async get(id: string): Promise<TokenView> {
    const row = await this.tokens.findById(id);
    if (!row) throw errors.notFound('token', id);
    return toTokenView(row, this.now());
  }

  /** A page of tokens; a `status` filter is judged at the service's clock, as each token's `status` is. */
  async list(
    filter: TokenFilter,
    page: PageRequest,
    order?: TokenOrder,
  ): Promise<{ data: TokenView[]; next_cursor: string | null }> {
    const now = this.now();
    const res = await this.tokens.list({ ...filter, now }, page, order);
    return { data: res.rows.map((r) => toTokenView(r, now)), next_cursor: res.nextCursor };
  }

  async update(id: string, input: UpdateTokenInput, ctx: AuditContext): Promise<TokenView> {
    const now = this.now();
    const patch: TokenPatch = { updated_at: now, ...limitColumns(input) };
    if (input.name !== undefined) patch.name = input.name;
    const expiry = this.expiry(input, now);
    if (expiry !== undefined) patch.expires_at = expiry;
    const row = await this.audit.change(ctx, async (tx) => {
      const current = await tx.repos.tokens.findById(id);
      if (!current) throw errors.notFound('token', id);
      let revoked = false;
      if (input.is_active !== undefined) {
        // Revoking twice keeps the first revocation time. A token the maintenance job deactivated
        // after it expired has no revoked_at yet: revoking it records one.
        if (!input.is_active && current.revoked_at === null) {
          patch.is_active = 0;
          patch.revoked_at = now;
          revoked = true;
        } else if (input.is_active && current.is_active === 0) {
          patch.is_active = 1;
          patch.revoked_at = null;
        }
      } else if (expiry !== undefined && current.is_active === 0 && current.revoked_at === null) {
        // A token the maintenance job deactivated only because it expired (revoked_at is null) works
        // again once its expiry is extended; a revoked token stays revoked.
        patch.is_active = 1;
      }
      const row = await tx.repos.tokens.update(id, patch);
      if (!row) throw errors.notFound('token', id);
      // Every instance drops the token from its cache (tokens/change-feed.ts); wall time, for the lag.
      await tx.repos.changes.append([{ kind: 'token', tokenId: id }], Date.now());
      const changes = diff(audited(current, now), audited(row, now));
      if (changes) tx.record({ action: revoked ? 'token.revoked' : 'token.updated', target: target(id), changes });
      return row;
    });
    this.invalidate([id]);
    return toTokenView(row, now);
  }

  async revoke(id: string, ctx: AuditContext): Promise<TokenView> {
    return this.update(id, { is_active: false }, ctx);
  }

  /** Resolves `duration_minutes` or `expires_at` to epoch ms; undefined means "not given", null "never". */
  private expiry(
    input: { duration_minutes?: number | undefined; expires_at?: string | null | undefined },
    now: number,
  ) {
    if (input.duration_minutes !== undefined && input.expires_at !== undefined) {
      throw errors.validation('Give either duration_minutes or expires_at, not both.', 'expires_at');
    }
    if (input.duration_minutes !== undefined) return now + input.duration_minutes * 60_000;
    if (input.expires_at === null) return null;
    if (input.expires_at === undefined) return undefined;
    const at = Date.parse(input.expires_at);
    if (at <= now) throw errors.validation('expires_at must be in the future.', 'expires_at');
    return at;
  }
}

/** A fresh token: its plaintext (shown once, never stored) and the row that stores its hash. */
function newToken(
  input: IssueTokenInput | IssueBatchInput,
  name: string | null,
  expiresAt: number | null,
  now: number,
): { token: string; row: NewTokenRow } {
  const token = generateToken();
  const row: NewTokenRow = {
    id: uuidv7(now),
    project_id: input.project_id,
    token_hash: sha256Hex(token),
    token_hint: maskSecret(token),
    name,
    is_active: 1,
    expires_at: expiresAt,
    revoked_at: null,
    ...NO_LIMITS,
    ...limitColumns(input),
    last_used_at: null,
    created_at: now,
    updated_at: now,
  };
  return { token, row };
}

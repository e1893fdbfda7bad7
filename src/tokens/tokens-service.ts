import { uuidv7 } from '../crypto/ids.js';
import { generateToken, maskSecret, sha256Hex } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type LimitInput, limitColumns, NO_LIMITS } from '../limits/limit-fields.js';
import type { Clock } from '../shared/clock.js';
import type { PageRequest } from '../store/pagination.js';
import type { ProjectsRepo } from '../store/projects-repo.js';
import type { TokenPatch } from '../store/schema.js';
import type { TokenFilter, TokensRepo } from '../store/tokens-repo.js';
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

/** Called with the ids of tokens whose cached state is stale, so caches drop them at once. */
export type TokenInvalidation = (tokenIds: readonly string[]) => void;

export class TokensService {
  private readonly listeners: TokenInvalidation[] = [];

  constructor(
    private readonly tokens: TokensRepo,
    private readonly projects: ProjectsRepo,
    private readonly now: Clock,
  ) {}

  onInvalidate(fn: TokenInvalidation): void {
    this.listeners.push(fn);
  }

  invalidate(ids: readonly string[]): void {
    if (ids.length > 0) for (const fn of this.listeners) fn(ids);
  }

  async issue(input: IssueTokenInput): Promise<TokenView & { token: string }> {
    if (!(await this.projects.findById(input.project_id))) throw errors.notFound('project', input.project_id);
    const now = this.now();
    const token = generateToken();
    const row = await this.tokens.insert({
      id: uuidv7(now),
      project_id: input.project_id,
      token_hash: sha256Hex(token),
      token_hint: maskSecret(token),
      name: input.name ?? null,
      is_active: 1,
      expires_at: this.expiry(input, now) ?? null,
      revoked_at: null,
      ...NO_LIMITS,
      ...limitColumns(input),
      last_used_at: null,
      created_at: now,
      updated_at: now,
    });
    return { ...toTokenView(row, now), token };
  }

  async get(id: string): Promise<TokenView> {
    const row = await this.tokens.findById(id);
    if (!row) throw errors.notFound('token', id);
    return toTokenView(row, this.now());
  }

  async list(filter: TokenFilter, page: PageRequest): Promise<{ data: TokenView[]; next_cursor: string | null }> {
    const now = this.now();
    const res = await this.tokens.list(filter, page);
    return { data: res.rows.map((r) => toTokenView(r, now)), next_cursor: res.nextCursor };
  }

  async update(id: string, input: UpdateTokenInput): Promise<TokenView> {
    const now = this.now();
    const patch: TokenPatch = { updated_at: now, ...limitColumns(input) };
    if (input.name !== undefined) patch.name = input.name;
    if (input.is_active !== undefined) {
      const current = await this.tokens.findById(id);
      if (!current) throw errors.notFound('token', id);
      // Only a change of state moves revoked_at: revoking twice keeps the first revocation time.
      if (input.is_active !== (current.is_active === 1)) {
        patch.is_active = input.is_active ? 1 : 0;
        patch.revoked_at = input.is_active ? null : now;
      }
    }
    const expiry = this.expiry(input, now);
    if (expiry !== undefined) patch.expires_at = expiry;
    const row = await this.tokens.update(id, patch);
    if (!row) throw errors.notFound('token', id);
    this.invalidate([id]);
    return toTokenView(row, now);
  }

  async revoke(id: string): Promise<TokenView> {
    return this.update(id, { is_active: false });
  }

  async revokeProject(projectId: string): Promise<{ revoked: number }> {
    if (!(await this.projects.findById(projectId))) throw errors.notFound('project', projectId);
    const ids = await this.tokens.revokeByProject(projectId, this.now());
    this.invalidate(ids);
    return { revoked: ids.length };
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

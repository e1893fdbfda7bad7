import {
  type AuditContext,
  type AuditDraft,
  created,
  deleted,
  diff,
  fieldsOf,
  listedIds,
  systemActor,
} from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { upstreamUrlProblem } from '../config/upstream-url.js';
import { uuidv7 } from '../crypto/ids.js';
import type { Keyring } from '../crypto/keyring.js';
import { maskSecret } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type LimitInput, limitColumns, NO_LIMITS } from '../limits/limit-fields.js';
import type { Clock } from '../shared/clock.js';
import type { PageRequest } from '../store/pagination.js';
import type { ProjectFilter, ProjectsRepo } from '../store/projects-repo.js';
import type { Repos } from '../store/repos.js';
import type { ProjectPatch, ProjectRow } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-errors.js';
import type { TokensService } from '../tokens/tokens-service.js';
import { projectChanged } from './project-change.js';
import { type ProjectView, toProjectView } from './project-view.js';
import { DEFAULT_KEY_WEIGHT, upstreamKeyProblem } from './upstream-key.js';

/** The name of the key a project is created with (and that migration 0012 gives existing keys). */
export const FIRST_KEY_NAME = 'primary';

export interface CreateProjectInput extends LimitInput {
  name: string;
  api_key: string;
  base_url?: string | null | undefined;
  is_active?: boolean | undefined;
  retry_server_errors?: boolean | undefined;
  cache_ttl_seconds?: number | null | undefined;
}

export interface UpdateProjectInput extends LimitInput {
  name?: string | undefined;
  api_key?: string | undefined;
  base_url?: string | null | undefined;
  is_active?: boolean | undefined;
  retry_server_errors?: boolean | undefined;
  cache_ttl_seconds?: number | null | undefined;
  revoke_tokens?: boolean | undefined;
}

/** What an audit event records of a project: its settings and key hint, not its counters or times. */
const audited = (row: ProjectRow) => fieldsOf(toProjectView(row), ['id', 'request_count', 'created_at', 'updated_at']);
const target = (id: string) => ({ type: 'project', id });

/**
 * Project rules: unique names, upstream keys encrypted before they reach the store. Every change
 * is written with its audit event in one transaction.
 */
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepo,
    private readonly tokens: TokensService,
    private readonly keyring: Keyring,
    private readonly now: Clock,
    private readonly audit: AuditTrail,
  ) {}

  async create(input: CreateProjectInput, ctx: AuditContext): Promise<ProjectView> {
    checkUpstream(input);
    const now = this.now();
    const row = await this.unique(input.name, () =>
      this.audit.change(ctx, async (tx) => {
        const key = { encrypted: this.keyring.encrypt(input.api_key), hint: maskSecret(input.api_key) };
        const row = await tx.repos.projects.insert({
          id: uuidv7(now),
          name: input.name,
          api_key_encrypted: key.encrypted,
          api_key_hint: key.hint,
          base_url: normaliseBaseUrl(input.base_url),
          is_active: input.is_active === false ? 0 : 1,
          retry_server_errors: input.retry_server_errors ? 1 : 0,
          cache_ttl_seconds: input.cache_ttl_seconds ?? null,
          ...NO_LIMITS,
          ...limitColumns(input),
          created_at: now,
          updated_at: now,
        });
        // The project's key is its first upstream key (project-keys-service.ts manages the others).
        await tx.repos.projectKeys.insert({
          id: uuidv7(now),
          project_id: row.id,
          name: FIRST_KEY_NAME,
          key_encrypted: key.encrypted,
          key_hint: key.hint,
          base_url: null,
          auth_style: 'bearer',
          weight: DEFAULT_KEY_WEIGHT,
          enabled: 1,
          created_at: now,
          updated_at: now,
        });
        tx.record({ action: 'project.created', target: target(row.id), changes: created(audited(row)) });
        return row;
      }),
    );
    return toProjectView(row);
  }

  async get(id: string): Promise<ProjectView> {
    const row = await this.projects.findById(id);
    if (!row) throw errors.notFound('project', id);
    return toProjectView(row);
  }

  async list(
    page: PageRequest,
    filter: ProjectFilter = {},
  ): Promise<{ data: ProjectView[]; next_cursor: string | null }> {
    const res = await this.projects.list(page, filter);
    return { data: res.rows.map(toProjectView), next_cursor: res.nextCursor };
  }

  async update(id: string, input: UpdateProjectInput, ctx: AuditContext): Promise<ProjectView> {
    checkUpstream(input);
    const now = this.now();
    const patch: ProjectPatch = { updated_at: now, ...limitColumns(input) };
    if (input.name !== undefined) patch.name = input.name;
    if (input.base_url !== undefined) patch.base_url = normaliseBaseUrl(input.base_url);
    if (input.is_active !== undefined) patch.is_active = input.is_active ? 1 : 0;
    if (input.retry_server_errors !== undefined) patch.retry_server_errors = input.retry_server_errors ? 1 : 0;
    if (input.cache_ttl_seconds !== undefined) patch.cache_ttl_seconds = input.cache_ttl_seconds;
    if (input.api_key !== undefined) {
      patch.api_key_encrypted = this.keyring.encrypt(input.api_key);
      patch.api_key_hint = maskSecret(input.api_key);
    }
    const { row, tokenIds } = await this.unique(input.name, () =>
      this.audit.change(ctx, async (tx) => {
        const before = await tx.repos.projects.findById(id);
        const row = before && (await tx.repos.projects.update(id, patch));
        if (!before || !row) throw errors.notFound('project', id);
        const { api_key_hint: hintBefore, ...was } = audited(before);
        const { api_key_hint: hintAfter, ...is } = audited(row);
        const changes = diff(was, is);
        if (changes) tx.record({ action: 'project.updated', target: target(id), changes });
        // A new key is a rotation even when its hint is the old one's: the event says so either way.
        if (input.api_key !== undefined) {
          tx.record({
            action: 'project.key_rotated',
            target: target(id),
            changes: { before: { api_key_hint: hintBefore }, after: { api_key_hint: hintAfter } },
          });
        }
        if (patch.api_key_encrypted !== undefined) await this.rotateFirstKey(tx.repos, id, patch, now);
        if (input.revoke_tokens) {
          const revoked = await tx.repos.tokens.revokeByProject(id, now);
          tx.record(tokensRevoked(id, revoked));
        }
        return { row, tokenIds: await projectChanged(tx.repos, id) };
      }),
    );
    // Any project change (key, upstream, activity, retry policy) alters what its tokens resolve to.
    this.tokens.invalidate(tokenIds);
    return toProjectView(row);
  }

  async delete(id: string, ctx: AuditContext): Promise<void> {
    const ids = await this.audit.change(ctx, async (tx) => {
      const before = await tx.repos.projects.findById(id);
      const ids = await tx.repos.tokens.idsByProject(id);
      if (!before || !(await tx.repos.projects.delete(id))) throw errors.notFound('project', id);
      await tx.repos.changes.append([{ kind: 'project', projectId: id }], Date.now());
      tx.record({
        action: 'project.deleted',
        target: target(id),
        changes: deleted(audited(before)),
        details: { tokens_deleted: ids.length },
      });
      return ids;
    });
    this.tokens.invalidate(ids);
  }

  /**
   * Empties the project's entries in the response cache (`purge`, which the proxy owns), then
   * records who did it: `project.cache_purged` with how many entries went.
   */
  async purgeCache(
    id: string,
    purge: (projectId: string) => Promise<number>,
    ctx: AuditContext,
  ): Promise<{ purged: number }> {
    if (!(await this.projects.findById(id))) throw errors.notFound('project', id);
    let purged: number;
    try {
      purged = await purge(id);
    } catch {
      throw errors.cacheUnavailable();
    }
    await this.audit.change(ctx, async (tx) => {
      tx.record({ action: 'project.cache_purged', target: target(id), details: { purged } });
    });
    return { purged };
  }

  /** Revokes every active token of a project; the proxy refuses them from their next request. */
  async revokeTokens(projectId: string, ctx: AuditContext): Promise<{ revoked: number }> {
    const ids = await this.audit.change(ctx, async (tx) => {
      if (!(await tx.repos.projects.findById(projectId))) throw errors.notFound('project', projectId);
      const ids = await tx.repos.tokens.revokeByProject(projectId, this.now());
      await tx.repos.changes.append([{ kind: 'project', projectId }], Date.now());
      tx.record(tokensRevoked(projectId, ids));
      return ids;
    });
    this.tokens.invalidate(ids);
    return { revoked: ids.length };
  }

  /**
   * Re-encrypts keys (every project's and every pool key) stored under an older key with the current
   * one; returns how many projects had a key re-encrypted.
   * One transaction, one `encryption.rekeyed` event (when anything changed).
   */
  async rekey(ctx: AuditContext = { actor: systemActor('cli') }): Promise<number> {
    return this.audit.change(ctx, async (tx) => {
      const changed = new Set<string>();
      for (const row of await tx.repos.projects.all()) {
        if (!this.keyring.needsRekey(row.api_key_encrypted)) continue;
        const plain = this.keyring.decrypt(row.api_key_encrypted);
        if (await tx.repos.projects.replaceKey(row.id, row.api_key_encrypted, this.keyring.encrypt(plain))) {
          changed.add(row.id);
        }
      }
      for (const key of await tx.repos.projectKeys.all()) {
        if (!this.keyring.needsRekey(key.key_encrypted)) continue;
        const plain = this.keyring.decrypt(key.key_encrypted);
        if (await tx.repos.projectKeys.replaceKey(key.id, key.key_encrypted, this.keyring.encrypt(plain))) {
          changed.add(key.project_id);
        }
      }
      if (changed.size > 0) {
        tx.record({
          action: 'encryption.rekeyed',
          target: { type: 'project', id: null },
          details: {
            projects: changed.size,
            key_id: this.keyring.currentId,
            ...listedIds('project_ids', [...changed]),
          },
        });
      }
      return changed.size;
    });
  }

  /** The project's `api_key` is its first key: a new one replaces that key's secret. */
  private async rotateFirstKey(repos: Repos, id: string, patch: ProjectPatch, now: number): Promise<void> {
    const first = await repos.projectKeys.first(id);
    if (!first) return;
    await repos.projectKeys.update(id, first.id, {
      key_encrypted: patch.api_key_encrypted as string,
      key_hint: patch.api_key_hint as string,
      updated_at: now,
    });
  }

  private async unique<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`A project named "${name}" already exists.`);
      throw err;
    }
  }
}

/** A project's tokens revoked at once (`POST /projects/{id}/tokens/revoke`, or PATCH with revoke_tokens). */
function tokensRevoked(projectId: string, ids: readonly string[]): AuditDraft {
  return {
    action: 'project.tokens_revoked',
    target: target(projectId),
    details: { revoked: ids.length, ...listedIds('token_ids', ids) },
  };
}

/** The API's schemas check these already; callers that bypass them get the same answer. */
export function checkUpstream(input: { api_key?: string | undefined; base_url?: string | null | undefined }): void {
  const keyProblem = input.api_key === undefined ? undefined : upstreamKeyProblem(input.api_key);
  if (keyProblem) throw errors.validation(`Invalid body: api_key: ${keyProblem}`, 'api_key');
  const urlProblem = input.base_url ? upstreamUrlProblem(input.base_url) : undefined;
  if (urlProblem) throw errors.validation(`Invalid body: base_url: ${urlProblem}`, 'base_url');
}

/** Clients send paths that start with /v1, so a base URL ending in /v1 would double it. */
export function normaliseBaseUrl(url: string | null | undefined): string | null {
  return url ? url.replace(/\/+$/, '').replace(/\/v1$/, '') : null;
}

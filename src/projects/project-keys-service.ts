import { type AuditContext, type AuditDraft, created, deleted, diff, fieldsOf } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { uuidv7 } from '../crypto/ids.js';
import type { Keyring } from '../crypto/keyring.js';
import { maskSecret } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import type { Clock } from '../shared/clock.js';
import type { PageRequest } from '../store/pagination.js';
import type { ProjectKeysRepo } from '../store/project-keys-repo.js';
import type { ProjectsRepo } from '../store/projects-repo.js';
import type { ProjectKeyPatch, ProjectKeyRow } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-errors.js';
import type { TokensService } from '../tokens/tokens-service.js';
import { mirrorFirstKey, projectChanged } from './project-change.js';
import { type ProjectKeyView, toProjectKeyView } from './project-key-view.js';
import { checkUpstream, normaliseBaseUrl } from './projects-service.js';
import { type AuthStyle, DEFAULT_KEY_WEIGHT } from './upstream-key.js';

export interface CreateProjectKeyInput {
  name: string;
  api_key: string;
  base_url?: string | null | undefined;
  auth_style?: AuthStyle | undefined;
  weight?: number | undefined;
  enabled?: boolean | undefined;
  http2?: boolean | undefined;
}

export type UpdateProjectKeyInput = Partial<CreateProjectKeyInput>;

/** What an audit event records of a key: its settings and hint, not its ids or times. */
const audited = (row: ProjectKeyRow) =>
  fieldsOf(toProjectKeyView(row), ['id', 'project_id', 'created_at', 'updated_at']);

/** Key events name the project as their target (so a project's trail shows them) and the key in details. */
const keyEvent = (action: AuditDraft['action'], row: ProjectKeyRow, changes: AuditDraft['changes']): AuditDraft => ({
  action,
  target: { type: 'project', id: row.project_id },
  changes,
  details: { key_id: row.id, key_name: row.name },
});

/**
 * A project's upstream keys: names unique in the project, keys encrypted before the store, and
 * always at least one enabled key (the last one can be neither disabled nor removed). Every change
 * is written with its audit event in one transaction and reaches every instance's token cache
 * through the change log, so it takes effect without a restart.
 */
export class ProjectKeysService {
  constructor(
    private readonly keys: ProjectKeysRepo,
    private readonly projects: ProjectsRepo,
    private readonly tokens: TokensService,
    private readonly keyring: Keyring,
    private readonly now: Clock,
    private readonly audit: AuditTrail,
  ) {}

  async list(projectId: string, page: PageRequest): Promise<{ data: ProjectKeyView[]; next_cursor: string | null }> {
    if (!(await this.projects.findById(projectId))) throw errors.notFound('project', projectId);
    const res = await this.keys.list(projectId, page);
    return { data: res.rows.map(toProjectKeyView), next_cursor: res.nextCursor };
  }

  async create(projectId: string, input: CreateProjectKeyInput, ctx: AuditContext): Promise<ProjectKeyView> {
    checkUpstream(input);
    const now = this.now();
    const { row, tokenIds } = await this.unique(input.name, () =>
      this.audit.change(ctx, async (tx) => {
        if (!(await tx.repos.projects.findById(projectId))) throw errors.notFound('project', projectId);
        const row = await tx.repos.projectKeys.insert({
          id: uuidv7(now),
          project_id: projectId,
          name: input.name,
          key_encrypted: this.keyring.encrypt(input.api_key),
          key_hint: maskSecret(input.api_key),
          base_url: normaliseBaseUrl(input.base_url),
          auth_style: input.auth_style ?? 'bearer',
          weight: input.weight ?? DEFAULT_KEY_WEIGHT,
          enabled: input.enabled === false ? 0 : 1,
          http2: input.http2 ? 1 : 0,
          created_at: now,
          updated_at: now,
        });
        tx.record(keyEvent('project.key_added', row, created(audited(row))));
        return { row, tokenIds: await projectChanged(tx.repos, projectId) };
      }),
    );
    this.tokens.invalidate(tokenIds);
    return toProjectKeyView(row);
  }

  async update(
    projectId: string,
    keyId: string,
    input: UpdateProjectKeyInput,
    ctx: AuditContext,
  ): Promise<ProjectKeyView> {
    checkUpstream(input);
    const patch: ProjectKeyPatch = { updated_at: this.now() };
    if (input.name !== undefined) patch.name = input.name;
    if (input.base_url !== undefined) patch.base_url = normaliseBaseUrl(input.base_url);
    if (input.auth_style !== undefined) patch.auth_style = input.auth_style;
    if (input.weight !== undefined) patch.weight = input.weight;
    if (input.enabled !== undefined) patch.enabled = input.enabled ? 1 : 0;
    if (input.http2 !== undefined) patch.http2 = input.http2 ? 1 : 0;
    if (input.api_key !== undefined) {
      patch.key_encrypted = this.keyring.encrypt(input.api_key);
      patch.key_hint = maskSecret(input.api_key);
    }
    const { row, tokenIds } = await this.unique(input.name, () =>
      this.audit.change(ctx, async (tx) => {
        const before = await tx.repos.projectKeys.find(projectId, keyId);
        if (!before) throw errors.notFound('key', keyId);
        if (before.enabled === 1 && input.enabled === false) await lastEnabled(tx.repos.projectKeys, before, 'disable');
        const row = (await tx.repos.projectKeys.update(projectId, keyId, patch)) as ProjectKeyRow;
        const { api_key_hint: hintBefore, ...was } = audited(before);
        const { api_key_hint: hintAfter, ...is } = audited(row);
        const changes = diff(was, is);
        if (changes) tx.record(keyEvent('project.key_updated', row, changes));
        // A new key is a rotation even when its hint is the old one's: the event says so either way.
        if (input.api_key !== undefined) {
          const hints = { before: { api_key_hint: hintBefore }, after: { api_key_hint: hintAfter } };
          tx.record(keyEvent('project.key_rotated', row, hints));
          await mirrorFirstKey(tx.repos, projectId);
        }
        return { row, tokenIds: await projectChanged(tx.repos, projectId) };
      }),
    );
    this.tokens.invalidate(tokenIds);
    return toProjectKeyView(row);
  }

  async delete(projectId: string, keyId: string, ctx: AuditContext): Promise<void> {
    const tokenIds = await this.audit.change(ctx, async (tx) => {
      const before = await tx.repos.projectKeys.find(projectId, keyId);
      if (!before) throw errors.notFound('key', keyId);
      if (before.enabled === 1) await lastEnabled(tx.repos.projectKeys, before, 'remove');
      await tx.repos.projectKeys.delete(projectId, keyId);
      await mirrorFirstKey(tx.repos, projectId);
      tx.record(keyEvent('project.key_removed', before, deleted(audited(before))));
      return projectChanged(tx.repos, projectId);
    });
    this.tokens.invalidate(tokenIds);
  }

  private async unique<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`This project already has a key named "${name}".`);
      throw err;
    }
  }
}

/**
 * Refuses to leave a project without an enabled key: its tokens could reach no upstream. Race-free
 * across instances: every audited change holds the audit chain's lock for its whole transaction.
 */
async function lastEnabled(keys: ProjectKeysRepo, key: ProjectKeyRow, what: 'disable' | 'remove'): Promise<void> {
  if ((await keys.enabledOthers(key.project_id, key.id)) > 0) return;
  throw errors.lastEnabledKey(what, key.name);
}

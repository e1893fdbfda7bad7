import { upstreamUrlProblem } from '../config/upstream-url.js';
import { uuidv7 } from '../crypto/ids.js';
import type { Keyring } from '../crypto/keyring.js';
import { maskSecret } from '../crypto/secrets.js';
import { errors } from '../errors.js';
import { type LimitInput, limitColumns, NO_LIMITS } from '../limits/limit-fields.js';
import type { Clock } from '../shared/clock.js';
import type { PageRequest } from '../store/pagination.js';
import type { ProjectsRepo } from '../store/projects-repo.js';
import type { ProjectPatch } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-errors.js';
import type { TokensRepo } from '../store/tokens-repo.js';
import type { TokensService } from '../tokens/tokens-service.js';
import { type ProjectView, toProjectView } from './project-view.js';
import { upstreamKeyProblem } from './upstream-key.js';

export interface CreateProjectInput extends LimitInput {
  name: string;
  api_key: string;
  base_url?: string | null | undefined;
  is_active?: boolean | undefined;
}

export interface UpdateProjectInput extends LimitInput {
  name?: string | undefined;
  api_key?: string | undefined;
  base_url?: string | null | undefined;
  is_active?: boolean | undefined;
  revoke_tokens?: boolean | undefined;
}

/** Project rules: unique names, upstream keys encrypted before they reach the store. */
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepo,
    private readonly tokenRows: TokensRepo,
    private readonly tokens: TokensService,
    private readonly keyring: Keyring,
    private readonly now: Clock,
  ) {}

  async create(input: CreateProjectInput): Promise<ProjectView> {
    checkUpstream(input);
    const now = this.now();
    const row = await this.unique(input.name, () =>
      this.projects.insert({
        id: uuidv7(now),
        name: input.name,
        api_key_encrypted: this.keyring.encrypt(input.api_key),
        api_key_hint: maskSecret(input.api_key),
        base_url: normaliseBaseUrl(input.base_url),
        is_active: input.is_active === false ? 0 : 1,
        ...NO_LIMITS,
        ...limitColumns(input),
        created_at: now,
        updated_at: now,
      }),
    );
    return toProjectView(row);
  }

  async get(id: string): Promise<ProjectView> {
    const row = await this.projects.findById(id);
    if (!row) throw errors.notFound('project', id);
    return toProjectView(row);
  }

  async list(page: PageRequest): Promise<{ data: ProjectView[]; next_cursor: string | null }> {
    const res = await this.projects.list(page);
    return { data: res.rows.map(toProjectView), next_cursor: res.nextCursor };
  }

  async update(id: string, input: UpdateProjectInput): Promise<ProjectView> {
    checkUpstream(input);
    const patch: ProjectPatch = { updated_at: this.now(), ...limitColumns(input) };
    if (input.name !== undefined) patch.name = input.name;
    if (input.base_url !== undefined) patch.base_url = normaliseBaseUrl(input.base_url);
    if (input.is_active !== undefined) patch.is_active = input.is_active ? 1 : 0;
    if (input.api_key !== undefined) {
      patch.api_key_encrypted = this.keyring.encrypt(input.api_key);
      patch.api_key_hint = maskSecret(input.api_key);
    }
    const row = await this.unique(input.name, () => this.projects.update(id, patch));
    if (!row) throw errors.notFound('project', id);
    if (input.revoke_tokens) await this.tokens.revokeProject(id);
    // Any project change (key, upstream, activity) alters what its tokens resolve to.
    this.tokens.invalidate(await this.tokenRows.idsByProject(id));
    return toProjectView(row);
  }

  async delete(id: string): Promise<void> {
    const ids = await this.tokenRows.idsByProject(id);
    if (!(await this.projects.delete(id))) throw errors.notFound('project', id);
    this.tokens.invalidate(ids);
  }

  /** Re-encrypts keys stored under an older key with the current one; returns how many changed. */
  async rekey(): Promise<number> {
    let changed = 0;
    for (const row of await this.projects.all()) {
      if (!this.keyring.needsRekey(row.api_key_encrypted)) continue;
      const plain = this.keyring.decrypt(row.api_key_encrypted);
      if (await this.projects.replaceKey(row.id, row.api_key_encrypted, this.keyring.encrypt(plain))) changed++;
    }
    return changed;
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

/** The API's schemas check these already; callers that bypass them get the same answer. */
function checkUpstream(input: { api_key?: string | undefined; base_url?: string | null | undefined }): void {
  const keyProblem = input.api_key === undefined ? undefined : upstreamKeyProblem(input.api_key);
  if (keyProblem) throw errors.validation(`Invalid body: api_key: ${keyProblem}`, 'api_key');
  const urlProblem = input.base_url ? upstreamUrlProblem(input.base_url) : undefined;
  if (urlProblem) throw errors.validation(`Invalid body: base_url: ${urlProblem}`, 'base_url');
}

/** Clients send paths that start with /v1, so a base URL ending in /v1 would double it. */
export function normaliseBaseUrl(url: string | null | undefined): string | null {
  return url ? url.replace(/\/+$/, '').replace(/\/v1$/, '') : null;
}

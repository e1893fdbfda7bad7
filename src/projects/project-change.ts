import type { Repos } from '../store/repos.js';

/**
 * Inside a change's transaction: logs that what the project's tokens resolve to changed (key,
 * upstream, activity), so every instance drops them from its token cache (tokens/change-feed.ts),
 * and returns their ids for this process to drop at once, after the commit.
 */
export async function projectChanged(repos: Repos, projectId: string): Promise<string[]> {
  await repos.changes.append([{ kind: 'project', projectId }], Date.now());
  return repos.tokens.idsByProject(projectId);
}

/**
 * Keeps `projects.api_key_encrypted` and `api_key_hint` a copy of the project's first key (see
 * migration 0012: an older version reads them, and the project's view shows that hint).
 */
export async function mirrorFirstKey(repos: Repos, projectId: string): Promise<void> {
  const first = await repos.projectKeys.first(projectId);
  if (!first) return;
  await repos.projects.update(projectId, { api_key_encrypted: first.key_encrypted, api_key_hint: first.key_hint });
}

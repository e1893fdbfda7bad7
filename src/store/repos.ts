import { AdminSessionsRepo } from './admin-sessions-repo.js';
import { AdminUsersRepo } from './admin-users-repo.js';
import { AuditRepo } from './audit-repo.js';
import { ChangesRepo } from './changes-repo.js';
import type { Db } from './database.js';
import { PricingRepo } from './pricing-repo.js';
import { ProjectKeysRepo } from './project-keys-repo.js';
import { ProjectsRepo } from './projects-repo.js';
import { TokensRepo } from './tokens-repo.js';

/** The repositories over one connection or transaction: what a change and its audit event share. */
export interface Repos {
  projects: ProjectsRepo;
  /** The upstream keys of each project (its key pool). */
  projectKeys: ProjectKeysRepo;
  tokens: TokensRepo;
  pricing: PricingRepo;
  audit: AuditRepo;
  users: AdminUsersRepo;
  sessions: AdminSessionsRepo;
  /** The change log every instance's token cache follows (changes-repo.ts). */
  changes: ChangesRepo;
}

export function reposOf(db: Db): Repos {
  return {
    projects: new ProjectsRepo(db),
    projectKeys: new ProjectKeysRepo(db),
    tokens: new TokensRepo(db),
    pricing: new PricingRepo(db),
    audit: new AuditRepo(db),
    users: new AdminUsersRepo(db),
    sessions: new AdminSessionsRepo(db),
    changes: new ChangesRepo(db),
  };
}

import type { Config } from './config/config.js';
import type { Logger } from './observability/logger.js';
import { ProjectsService } from './projects/projects-service.js';
import { systemClock } from './shared/clock.js';
import { loadSecrets, type Secrets } from './startup/secret-files.js';
import { type Db, openDatabase } from './store/database.js';
import { migrateToLatest, pendingMigrations } from './store/migrate.js';
import { ProjectsRepo } from './store/projects-repo.js';
import { TokensRepo } from './store/tokens-repo.js';
import { TokensService } from './tokens/tokens-service.js';

/** Everything a command needs besides the HTTP server: store, secrets and services, wired once. */
export interface Runtime {
  config: Config;
  logger: Logger;
  db: Db;
  secrets: Secrets;
  projects: ProjectsService;
  tokens: TokensService;
  close(): Promise<void>;
}

export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const secrets = loadSecrets(config);
  if (secrets.keyGenerated) {
    logger.warn(
      { file: secrets.keyFile },
      'ENCRYPTION_KEY is not set: generated an encryption key file in the data directory. ' +
        'In production set ENCRYPTION_KEY (and REQUIRE_ENCRYPTION_KEY=true) and keep the key out of the data volume.',
    );
  } else if (secrets.keyFile) {
    logger.warn({ file: secrets.keyFile }, 'ENCRYPTION_KEY is not set: using the key file in the data directory.');
  }

  const db = openDatabase(config.database);
  try {
    if (config.autoMigrate) {
      const applied = await migrateToLatest(db);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
    } else {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new Error(`database has pending migrations (${pending.join(', ')}); run "llm-proxy migrate"`);
      }
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }

  const projectsRepo = new ProjectsRepo(db);
  const tokensRepo = new TokensRepo(db);
  const tokens = new TokensService(tokensRepo, projectsRepo, systemClock);
  const projects = new ProjectsService(projectsRepo, tokensRepo, tokens, secrets.keyring, systemClock);
  return { config, logger, db, secrets, projects, tokens, close: () => db.destroy() };
}

import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { type Config, toConfig } from './config.js';
import { redisSettingsProblem } from './redis-settings.js';
import { configSchema, type RawConfig } from './schema.js';
import { tlsSettingsProblem } from './tls-settings.js';

type Source = Record<string, unknown>;

/**
 * The one reader of `process.env`. Precedence: explicit overrides (CLI flags) > environment >
 * the JSON file named by CONFIG_FILE > defaults. Empty strings count as unset, as in most tools.
 */
export function loadConfig(overrides: Source = {}, env: Source = process.env): Config {
  const file = overrides.CONFIG_FILE ?? env.CONFIG_FILE;
  const fromFile = readConfigFile(typeof file === 'string' ? file : undefined);
  const merged: Record<string, unknown> = {};
  for (const source of [fromFile, env, overrides]) {
    for (const [k, v] of Object.entries(source)) if (v !== undefined && v !== '') merged[k] = v;
  }
  const shape = configSchema.shape;
  const known = Object.fromEntries(Object.entries(merged).filter(([k]) => k in shape));
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (!c.ENCRYPTION_KEY && c.REQUIRE_ENCRYPTION_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  ENCRYPTION_KEY: required (REQUIRE_ENCRYPTION_KEY=true) but not set',
    );
  }
  if (!c.ENCRYPTION_KEY && c.DATABASE_URL?.startsWith('postgres')) {
    // Instances sharing a database must share the key; a per-instance key file cannot be shared.
    throw new ConfigError(
      'Invalid configuration:\n  ENCRYPTION_KEY: must be set when DATABASE_URL points to PostgreSQL',
    );
  }
  const statement = c.DATABASE_STATEMENT_TIMEOUT_MS;
  if (statement && c.DATABASE_QUERY_TIMEOUT_MS && statement > c.DATABASE_QUERY_TIMEOUT_MS) {
    // The client would give up first and discard the connection, the statement still running.
    throw new ConfigError(
      `Invalid configuration:\n  DATABASE_STATEMENT_TIMEOUT_MS: must not exceed DATABASE_QUERY_TIMEOUT_MS (${c.DATABASE_QUERY_TIMEOUT_MS}), or set that to 0`,
    );
  }
  if (c.INSTANCE_GONE_AFTER_MS < 2 * c.INSTANCE_HEARTBEAT_MS) {
    // One late heartbeat would show a running instance as gone.
    throw new ConfigError(
      `Invalid configuration:\n  INSTANCE_GONE_AFTER_MS: must be at least twice INSTANCE_HEARTBEAT_MS (${c.INSTANCE_HEARTBEAT_MS})`,
    );
  }
  if (c.CACHE_BACKEND === 'redis' && !c.REDIS_URL) {
    throw new ConfigError('Invalid configuration:\n  CACHE_BACKEND: redis needs REDIS_URL');
  }
  if (c.SHIPPING_WEBHOOK_URL && !c.SHIPPING_WEBHOOK_SECRET) {
    // Unsigned events could be forged by anyone who can reach the receiver.
    throw new ConfigError(
      'Invalid configuration:\n  SHIPPING_WEBHOOK_SECRET: required with SHIPPING_WEBHOOK_URL (the key that signs every batch)',
    );
  }
  const redisProblem = redisSettingsProblem(c);
  if (redisProblem) throw new ConfigError(`Invalid configuration:\n  ${redisProblem}`);
  const tlsProblem = tlsSettingsProblem(c);
  if (tlsProblem) throw new ConfigError(`Invalid configuration:\n  ${tlsProblem}`);
  const oidcProblem = oidcSettingsProblem(c);
  if (oidcProblem) throw new ConfigError(`Invalid configuration:\n  ${oidcProblem}`);
  return toConfig(c);
}

/** Single sign-on needs a client id and someone to let in; the other OIDC_* settings need OIDC_ISSUER. */
function oidcSettingsProblem(c: RawConfig): string | undefined {
  const dependent = [
    'OIDC_CLIENT_ID',
    'OIDC_CLIENT_SECRET',
    'OIDC_REDIRECT_URL',
    'OIDC_ALLOWED_EMAILS',
    'OIDC_ADMIN_GROUPS',
    'OIDC_OPERATOR_GROUPS',
    'OIDC_VIEWER_GROUPS',
  ] as const;
  const given = dependent.filter((k) => c[k] !== undefined);
  if (!c.OIDC_ISSUER) return given.length > 0 ? `OIDC_ISSUER: required by ${given.join(', ')}` : undefined;
  if (!c.OIDC_CLIENT_ID) return 'OIDC_CLIENT_ID: required when OIDC_ISSUER is set';
  const who = [c.OIDC_ALLOWED_EMAILS, c.OIDC_ADMIN_GROUPS, c.OIDC_OPERATOR_GROUPS, c.OIDC_VIEWER_GROUPS];
  if (!who.some((l) => l && l.length > 0))
    return 'OIDC_ALLOWED_EMAILS: set it or one of OIDC_ADMIN_GROUPS, OIDC_OPERATOR_GROUPS, OIDC_VIEWER_GROUPS, or nobody can sign in with OIDC_ISSUER';
  if (!c.OIDC_SCOPES.split(/\s+/).includes('openid')) return 'OIDC_SCOPES: must include openid';
  return undefined;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    const unknown = Object.keys(value).filter((k) => !(k in configSchema.shape));
    if (unknown.length > 0) throw new Error(`unknown setting(s) ${unknown.join(', ')}`);
    // JSON numbers and booleans are fine: the schema coerces them like env text.
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE: ${file} is not a JSON object of settings: ${(err as Error).message}`);
  }
}

/** Settings of the CLI's client commands (they talk to a running server, not to the database). */
export interface ClientSettings {
  url: string | undefined;
  managementToken: string | undefined;
  dataDir: string;
}

export function loadClientSettings(env: Source = process.env): ClientSettings {
  const str = (k: string) => (typeof env[k] === 'string' && env[k] !== '' ? (env[k] as string) : undefined);
  return { url: str('LLM_PROXY_URL'), managementToken: str('MANAGEMENT_TOKEN'), dataDir: str('DATA_DIR') ?? './data' };
}

import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { manualClock } from '../../test/helpers/clock.js';
import { sqliteDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import type { AuditContext } from '../audit/audit-event.js';
import { AuditTrail } from '../audit/audit-trail.js';
import { AuditChain } from '../audit/chain.js';
import { Keyring } from '../crypto/keyring.js';
import { AppError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { ProjectKeysService } from '../projects/project-keys-service.js';
import { ProjectsService } from '../projects/projects-service.js';
import { type Db, openDatabase } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { ProjectKeysRepo } from '../store/project-keys-repo.js';
import { ProjectsRepo } from '../store/projects-repo.js';
import { TokensRepo } from '../store/tokens-repo.js';
import { Authenticator } from './authenticator.js';
import { type IssueTokenInput, TokensService } from './tokens-service.js';

const TTL = 30_000;
const ctx: AuditContext = { actor: { type: 'management-token', id: null } };
const clock = manualClock(Date.UTC(2026, 0, 15, 12));
let tdb: TestDatabase;
let db: Db;
let tokensRepo: TokensRepo;
let projects: ProjectsService;
let poolKeys: ProjectKeysService;
let tokens: TokensService;
let auth: Authenticator;
let projectId: string;

beforeAll(async () => {
  tdb = sqliteDatabase();
  db = openDatabase(tdb.config);
  await migrateToLatest(db);
  tokensRepo = new TokensRepo(db);
  const projectsRepo = new ProjectsRepo(db);
  const keyring = new Keyring(randomBytes(32));
  const audit = new AuditTrail(
    db,
    AuditChain.fromKeyring(keyring),
    undefined,
    createLogger({ level: 'silent' }),
    clock.now,
    {
      clientIp: true,
    },
  );
  tokens = new TokensService(tokensRepo, clock.now, audit);
  projects = new ProjectsService(projectsRepo, tokens, keyring, clock.now, audit);
  poolKeys = new ProjectKeysService(new ProjectKeysRepo(db), projectsRepo, tokens, keyring, clock.now, audit);
  auth = new Authenticator(tokensRepo, projectsRepo, new ProjectKeysRepo(db), keyring, clock.now, {
    cacheSize: 100,
    cacheTtlMs: TTL,
    defaultUpstream: 'https://api.openai.com',
  });
  // As the runtime wires it: management changes drop the cached entries at once.
  tokens.onInvalidate((ids) => auth.invalidate(ids));
  projectId = (
    await projects.create(
      {
        name: 'auth-unit',
        api_key: 'sk-upstream-secret-1234',
        base_url: 'https://upstream.example/openai/v1/',
        max_requests: 500,
        allowed_models: ['gpt-4o*'],
      },
      ctx,
    )
  ).id;
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
});

/** Counts the store reads by token hash, calling through to the real repository. */
let reads: MockInstance<TokensRepo['findByHash']>;
beforeEach(() => {
  reads?.mockRestore();
  reads = vi.spyOn(tokensRepo, 'findByHash');
});

const issue = (over: Partial<IssueTokenInput> = {}) => tokens.issue({ project_id: projectId, ...over }, ctx);

/** The 401 message an authentication fails with (fails the test if it succeeds or fails otherwise). */
async function refusal(presented: string): Promise<string> {
  const err = await auth.authenticate(presented).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status: 401, code: 'invalid_api_key' });
  return (err as AppError).message;
}

describe('Authenticator', () => {
  it('resolves a token to its identity: ids, limits of token and project, rules, upstream, decrypted key', async () => {
    const t = await issue({ requests_per_minute: 7, budget_usd: 1.5, budget_period: 'day' });
    const id = await auth.authenticate(t.token);
    expect(id).toMatchObject({
      tokenId: t.id,
      projectId,
      tokenActive: true,
      projectActive: true,
      expiresAt: null,
      upstreamKeys: [
        {
          name: 'primary',
          origin: 'https://upstream.example',
          prefix: '/openai',
          authStyle: 'bearer',
          weight: 1,
          secret: 'sk-upstream-secret-1234',
        },
      ],
      limits: [
        { kind: 'token', id: t.id, requestsPerMinute: 7, budgetNanoUsd: 1_500_000_000, budgetPeriod: 'day' },
        { kind: 'project', id: projectId, maxRequests: 500, requestsPerMinute: null, budgetPeriod: 'total' },
      ],
    });
    expect(id.modelRules).toHaveLength(1); // only the project restricts models
    expect(id.endpointRules).toEqual([]);
  });

  it("carries the project's enabled keys, first key first, each with its own upstream and auth style", async () => {
    const pid = (await projects.create({ name: 'auth-pool', api_key: 'sk-pool-first-0000000000001' }, ctx)).id;
    const azure = await poolKeys.create(
      pid,
      {
        name: 'azure',
        api_key: 'azure-pool-key-00000000002',
        base_url: 'https://azure.example/openai/v1',
        auth_style: 'api-key',
        weight: 3,
      },
      ctx,
    );
    await poolKeys.create(pid, { name: 'off', api_key: 'sk-pool-off-00000000000003', enabled: false }, ctx);
    const t = await tokens.issue({ project_id: pid }, ctx);
    expect((await auth.authenticate(t.token)).upstreamKeys).toEqual([
      {
        id: expect.any(String),
        name: 'primary',
        origin: 'https://api.openai.com', // no base_url on the key or the project: the default upstream
        prefix: '',
        authStyle: 'bearer',
        weight: 1,
        secret: 'sk-pool-first-0000000000001',
        http2: false,
      },
      {
        id: azure.id,
        name: 'azure',
        origin: 'https://azure.example',
        prefix: '/openai',
        authStyle: 'api-key',
        weight: 3,
        secret: 'azure-pool-key-00000000002',
        http2: false,
      },
    ]);
    // A key change drops the project's cached tokens at once.
    await poolKeys.update(pid, azure.id, { enabled: false }, ctx);
    expect((await auth.authenticate(t.token)).upstreamKeys.map((k) => k.name)).toEqual(['primary']);
  });

  it('serves a token from the cache: the store is read once, and `cached` answers synchronously', async () => {
    const t = await issue();
    expect(auth.cached(t.token)).toBeUndefined();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => auth.authenticate(t.token)));
    expect(reads).toHaveBeenCalledTimes(1); // concurrent misses share one read
    expect(await auth.authenticate(t.token)).toBe(a);
    expect(auth.cached(t.token)).toBe(a);
    expect([b, c]).toEqual([a, a]);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('reads the store again once the TTL has passed on the injected clock', async () => {
    const t = await issue();
    await auth.authenticate(t.token);
    clock.advance(TTL);
    expect(auth.cached(t.token)).toBeDefined();
    clock.advance(1);
    expect(auth.cached(t.token)).toBeUndefined();
    await auth.authenticate(t.token);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('caches an unknown token briefly (5 s at most), so garbage cannot hammer the store', async () => {
    const garbage = 'sk-llmp-not-a-real-token';
    expect(await refusal(garbage)).toContain('the token is not known to this proxy');
    expect(await refusal(garbage)).toContain('the token is not known to this proxy');
    expect(() => auth.cached(garbage)).toThrow('not known');
    expect(reads).toHaveBeenCalledTimes(1);
    clock.advance(5_001);
    expect(auth.cached(garbage)).toBeUndefined();
    await refusal(garbage);
    expect(reads).toHaveBeenCalledTimes(2);
  });

  it('revoking, updating or deactivating the project takes effect at the next request, TTL or not', async () => {
    const t = await issue({ max_requests: 5 });
    await auth.authenticate(t.token);
    await tokens.update(t.id, { max_requests: 9 }, ctx);
    expect((await auth.authenticate(t.token)).limits[0].maxRequests).toBe(9);
    await tokens.revoke(t.id, ctx);
    expect(await refusal(t.token)).toContain('the token has been revoked');
    await tokens.update(t.id, { is_active: true }, ctx);
    await auth.authenticate(t.token);
    await projects.update(projectId, { is_active: false }, ctx);
    expect(await refusal(t.token)).toContain("the token's project is inactive");
    await projects.update(projectId, { is_active: true }, ctx);
    await auth.authenticate(t.token);
    expect(reads).toHaveBeenCalledTimes(6); // each change re-read once
  });

  it('a read that began before an invalidation answers its caller but does not fill the cache', async () => {
    const t = await issue();
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const real = TokensRepo.prototype.findByHash;
    reads.mockImplementationOnce(async function (this: TokensRepo, hash) {
      const row = await real.call(this, hash);
      await held; // the row was read before the revocation below
      return row;
    });
    const inFlight = auth.authenticate(t.token);
    await tokens.revoke(t.id, ctx);
    release();
    expect((await inFlight).tokenActive).toBe(true);
    expect(await refusal(t.token)).toContain('the token has been revoked');
  });

  it('expiry is checked on every use, from the cache, before revocation', async () => {
    const t = await issue({ expires_at: new Date(clock.now() + 10_000).toISOString() });
    await auth.authenticate(t.token);
    clock.advance(9_999);
    await auth.authenticate(t.token);
    clock.advance(1);
    expect(await refusal(t.token)).toContain('the token has expired');
    expect(reads).toHaveBeenCalledTimes(1);
    await tokens.revoke(t.id, ctx);
    expect(await refusal(t.token)).toContain('the token has expired');
  });

  it('a store failure rejects with its own error (no 401, nothing cached); cached tokens keep working', async () => {
    const cachedToken = await issue();
    const uncached = await issue();
    await auth.authenticate(cachedToken.token);
    // A real failure of the real store: the table is gone while the proxy runs.
    await sql`alter table tokens rename to tokens_away`.execute(db);
    try {
      await expect(auth.authenticate(uncached.token)).rejects.toThrow(/no such table/);
      expect(auth.cached(uncached.token)).toBeUndefined();
      expect((await auth.authenticate(cachedToken.token)).tokenId).toBe(cachedToken.id);
    } finally {
      await sql`alter table tokens_away rename to tokens`.execute(db);
    }
    expect((await auth.authenticate(uncached.token)).tokenId).toBe(uncached.id);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRow } from '../../test/helpers/rows.js';
import { AppError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { type Db, openDatabase } from '../store/database.js';
import { IdempotencyKeysRepo } from '../store/idempotency-keys-repo.js';
import { migrateToLatest } from '../store/migrate.js';
import { Idempotency, type IdempotencySettings } from './idempotency.js';

const silent = createLogger({ level: 'silent' });
const FP = 'f'.repeat(64);
const settings = (over: Partial<IdempotencySettings> = {}): IdempotencySettings => ({
  ttlMs: 86_400_000,
  waitMs: 600_000,
  maxResponseBytes: 1024,
  ...over,
});
const until = async (check: () => boolean) => {
  while (!check()) await sleep(5);
};

/** The service over a real SQLite store: waiting, waking, the bound, and a store that fails. */
describe('Idempotency', () => {
  let dir: string;
  let db: Db;
  let repo: IdempotencyKeysRepo;
  let n = 0;
  const project = 'p1';
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-idem-'));
    db = openDatabase({ kind: 'sqlite', path: path.join(dir, 'db.sqlite') });
    await migrateToLatest(db);
    await db
      .insertInto('projects')
      .values(projectRow({ id: project, name: project }))
      .execute();
    repo = new IdempotencyKeysRepo(db);
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  const never = () => false;

  it('a repeat waiting in this process is woken when the first completes, and gets its response', async () => {
    const idem = new Idempotency(repo, settings(), 'instance-a', Date.now, silent);
    const key = `k-${++n}`;
    const first = await idem.begin(project, key, FP, 'r1', never);
    expect(first).toHaveProperty('run');
    const second = idem.begin(project, key, FP, 'r2', never);
    await until(() => idem.waiting === 1);
    idem.complete((first as { run: never }).run, Buffer.from('answer'));
    expect(await second).toEqual({ replay: Buffer.from('answer') });
    expect(idem.waiting).toBe(0);
    expect(idem.counts).toMatchObject({ new: 1, replayed: 1, stored: 1 });
    idem.stop();
  });

  it('a release wakes the repeat, which then claims the key and runs', async () => {
    const idem = new Idempotency(repo, settings(), 'instance-a', Date.now, silent);
    const key = `k-${++n}`;
    const first = (await idem.begin(project, key, FP, 'r1', never)) as { run: never };
    const second = idem.begin(project, key, FP, 'r2', never);
    await until(() => idem.waiting === 1);
    idem.release(first.run);
    expect(await second).toEqual({ run: { projectId: project, key, requestId: 'r2' } });
    idem.stop();
  });

  it('past IDEMPOTENCY_WAIT_MS the repeat gets 409; a client gone stops the wait', async () => {
    const idem = new Idempotency(repo, settings({ waitMs: 0 }), 'instance-a', Date.now, silent);
    const key = `k-${++n}`;
    await idem.begin(project, key, FP, 'r1', never);
    const busy = await idem.begin(project, key, FP, 'r2', never);
    expect((busy as AppError).code).toBe('idempotency_key_in_use');
    const patient = new Idempotency(repo, settings(), 'instance-b', Date.now, silent);
    let gone = false;
    const leaving = patient.begin(project, key, FP, 'r3', () => gone);
    await until(() => patient.waiting === 1);
    gone = true;
    expect(await leaving).toBeNull();
    idem.stop();
  });

  it('a store that cannot answer gets 503 idempotency_unavailable, never runs the request unguarded', async () => {
    // A real store whose database is gone (closed), as after an outage.
    const closed = openDatabase({ kind: 'sqlite', path: path.join(dir, 'db.sqlite') });
    await closed.selectFrom('projects').select('id').execute();
    await closed.destroy();
    const broken = new IdempotencyKeysRepo(closed);
    const idem = new Idempotency(broken, settings(), 'instance-a', Date.now, silent);
    const err = await idem.begin(project, 'k', FP, 'r1', never);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('idempotency_unavailable');
    expect(idem.counts.unavailable).toBe(1);
  });
});

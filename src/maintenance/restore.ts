import { chmodSync, copyFileSync, existsSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Keyring } from '../crypto/keyring.js';
import { makeDir } from '../shared/make-dir.js';
import { migrationState } from '../store/migrate.js';
import {
  forgetProcesses,
  isSqliteFile,
  probeUse,
  readFacts,
  type SqliteFacts,
  siblingTemp,
} from '../store/sqlite-backup.js';

/** Why a restore (or its check) did not go ahead; the message says what to do. */
export class RestoreRefused extends Error {}

export interface RestoreOptions {
  /** The backup file (made by `llm-proxy backup`, or any copy of an llm-proxy SQLite database). */
  backup: string;
  /** The database file to replace (DATA_DIR/llm-proxy.db or DATABASE_URL's path). */
  database: string;
  /** The usage journal's folder (DATA_DIR/journal). */
  journalDir: string;
  /** The configured keyring; called only when the backup holds upstream keys. */
  keyring: () => Keyring;
  /** Skip the key check: the key is lost, and the upstream keys will be entered again. */
  skipKeyCheck: boolean;
  /** Only check the backup; change nothing. */
  checkOnly: boolean;
  /** An instances-registry row whose heartbeat is younger than this belongs to a live server (INSTANCE_GONE_AFTER_MS). */
  goneAfterMs: number;
  now: number;
}

export interface RestoreReport {
  facts: SqliteFacts;
  /** This version's migrations the backup lacks: the next start applies them. */
  pending: string[];
  /** How many project keys decrypt, and (with skipKeyCheck) those that do not, by key id. */
  keys: { decrypted: number; undecryptable: Array<{ keyId: string; projects: string[] }> };
  /** Old files moved aside: [from, to]. Empty with checkOnly. */
  moved: Array<[string, string]>;
  /** Rows of the backup's server processes and leases deleted from the restored copy. */
  forgotten: { instances: number; leases: number };
}

/**
 * Puts a backup in place of the SQLite database, refusing anything that would lose data or leave a
 * server unable to use it: a damaged or foreign file, a schema newer than this version, upstream
 * keys the configured key cannot decrypt, a database another process has open. The checks run on
 * the copy that is then renamed into place, and nothing is deleted: the old database (with its
 * -wal and -shm) and the usage journal, whose records belong to it, are moved aside.
 */
export function restoreSqlite(o: RestoreOptions): RestoreReport {
  if (!existsSync(o.backup)) throw new RestoreRefused(`${o.backup}: no such file`);
  if (!isSqliteFile(o.backup)) throw new RestoreRefused(`${o.backup} is not a SQLite database`);
  // Before the copy and its checks (a large file takes a while), and again right before the move.
  if (!o.checkOnly) refuseIfInUse(o);
  makeDir(path.dirname(o.database), 0o700);
  const temp = siblingTemp(o.database, 'restore');
  try {
    copyFileSync(o.backup, temp);
    chmodSync(temp, 0o600);
    // A copy of a live database taken with its write-ahead log: SQLite folds the log in on first open.
    if (existsSync(`${o.backup}-wal`)) copyFileSync(`${o.backup}-wal`, `${temp}-wal`);
    const facts = checkedFacts(o.backup, temp);
    const state = migrationState(facts.migrations);
    if (state.foreign.length > 0 || state.newer.length > 0) {
      throw new RestoreRefused(
        `${o.backup} was made by a newer or different version of llm-proxy (migrations this version does not know: ` +
          `${[...state.foreign, ...state.newer].join(', ')}); restore it with that version or a later one`,
      );
    }
    const keys = checkKeys(facts, o);
    if (o.checkOnly) return { facts, pending: state.pending, keys, moved: [], forgotten: { instances: 0, leases: 0 } };
    const forgotten = forgetProcesses(temp);
    refuseIfInUse(o);
    const moved = moveAside(o);
    renameSync(temp, o.database);
    return { facts, pending: state.pending, keys, moved, forgotten };
  } finally {
    for (const f of [temp, `${temp}-wal`, `${temp}-shm`]) if (existsSync(f)) unlinkSync(f);
  }
}

function checkedFacts(backup: string, copy: string): SqliteFacts {
  try {
    return readFacts(copy, { integrity: true });
  } catch (err) {
    throw new RestoreRefused(`${backup} cannot be restored: ${(err as Error).message}`);
  }
}

/** Every project's upstream key must decrypt with the configured keyring, or the restore is refused. */
function checkKeys(facts: SqliteFacts, o: RestoreOptions): RestoreReport['keys'] {
  if (facts.projectKeys.length === 0) return { decrypted: 0, undecryptable: [] };
  let keyring: Keyring;
  try {
    keyring = o.keyring();
  } catch (err) {
    if (o.skipKeyCheck) return { decrypted: 0, undecryptable: byKeyId(facts.projectKeys) };
    throw new RestoreRefused(`${(err as Error).message} The backup's upstream keys need it.`);
  }
  const failed = facts.projectKeys.filter((p) => {
    try {
      keyring.decrypt(p.encrypted);
      return false;
    } catch {
      return true;
    }
  });
  const undecryptable = byKeyId(failed);
  if (undecryptable.length > 0 && !o.skipKeyCheck) {
    const which = undecryptable
      .map((k) => `key id ${k.keyId} (${k.projects.length} project(s): ${k.projects.slice(0, 5).join(', ')})`)
      .join('; ');
    throw new RestoreRefused(
      `the configured encryption key (key id ${keyring.currentId}) cannot decrypt the backup's upstream keys: ` +
        `${which}. Set ENCRYPTION_KEY, or ENCRYPTION_KEY_PREVIOUS, to the key with that id (the one the backup's ` +
        "server used). If that key is lost, run restore with --skip-key-check and set each project's upstream " +
        'key again (llm-proxy project update <id> --api-key ...).',
    );
  }
  return { decrypted: facts.projectKeys.length - failed.length, undecryptable };
}

function byKeyId(projects: SqliteFacts['projectKeys']): Array<{ keyId: string; projects: string[] }> {
  const out = new Map<string, string[]>();
  for (const p of projects) {
    const id = p.encrypted.split(':')[1] || 'unknown';
    out.set(id, [...(out.get(id) ?? []), p.name]);
  }
  return [...out].map(([keyId, names]) => ({ keyId, projects: names }));
}

function refuseIfInUse(o: RestoreOptions): void {
  if (!existsSync(o.database)) return;
  const probe = probeUse(o.database);
  if (probe.open) {
    throw new RestoreRefused(
      `${o.database} is open in another process: a running llm-proxy server (or a command such as backup). ` +
        'Stop every server that uses it, then run restore again.',
    );
  }
  // A server on another host (a shared volume) holds no lock this host sees: its heartbeat tells.
  const live = probe.instances.filter((i) => o.now - i.last_seen_at < o.goneAfterMs);
  const elsewhere = live.filter((i) => i.host !== hostname());
  if (elsewhere.length > 0) {
    const who = elsewhere.map((i) => `${i.host} pid ${i.pid}${i.listen ? ` (${i.listen})` : ''}`).join(', ');
    throw new RestoreRefused(
      `${o.database} is served by ${who} (a heartbeat within INSTANCE_GONE_AFTER_MS). Stop it, or, if it ` +
        'crashed, wait until its heartbeat is older than INSTANCE_GONE_AFTER_MS, then run restore again.',
    );
  }
}

/** The old database, its -wal and -shm, and the journal's folder, renamed with one stamp. */
function moveAside(o: RestoreOptions): Array<[string, string]> {
  const time = new Date(o.now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // A rename replaces what has the name: a second restore within the second gets a name of its own.
  const taken = (s: string) =>
    [`${o.database}.before-restore-${s}`, `${o.journalDir}.before-restore-${s}`].some((f) => existsSync(f));
  let stamp = time;
  for (let n = 2; taken(stamp); n++) stamp = `${time}-${n}`;
  const moved: Array<[string, string]> = [];
  const move = (from: string, to: string) => {
    if (!existsSync(from)) return;
    renameSync(from, to);
    moved.push([from, to]);
  };
  // SQLite finds `<name>-wal` beside `<name>`: the aside copy opens with its log.
  const aside = `${o.database}.before-restore-${stamp}`;
  move(o.database, aside);
  move(`${o.database}-wal`, `${aside}-wal`);
  move(`${o.database}-shm`, `${aside}-shm`);
  if (existsSync(o.journalDir) && readdirSync(o.journalDir).length > 0) {
    move(o.journalDir, `${o.journalDir}.before-restore-${stamp}`);
  }
  return moved;
}

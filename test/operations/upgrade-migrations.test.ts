import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_MIGRATIONS } from '../../src/store/migrate.js';

/**
 * The upgrade rule (docs/operations.md#upgrades): a migration only adds (tables, nullable or
 * defaulted columns, indexes), so the previous version keeps serving on the new schema during a
 * rolling upgrade and after a rollback. Dropping, renaming or retyping comes in a later release,
 * once no supported version reads the old shape, and is listed here with the reason it is safe (or,
 * for a release whose upgrade is stated as not rolling, why it cannot be).
 */
const ALLOWED: Record<string, string> = {
  '0008-usage-partitions':
    'PostgreSQL only: usage_records is rebuilt as a partitioned table under the same name with the same ' +
    'columns, in one transaction (the old copy is renamed, copied and dropped), so every version reads and ' +
    'writes it as before',
  '0017-nano-usd':
    'NOT rolling: money columns are renamed *_micro_usd → *_nano_usd (values × 1000), which a previous ' +
    'version cannot read or write. Keeping both units side by side would count every rollup, budget and ' +
    'limit counter twice over; the upgrade to it stops every old instance first (docs/operations.md#upgrades)',
};

const DIR = 'src/store/migrations';

/** The migration's text without its `down` function (which undoes it, so it drops). */
function upText(source: string): string {
  const start = source.indexOf('export async function down(');
  if (start < 0) return source;
  const end = source.indexOf('\n}\n', start);
  return source.slice(0, start) + (end < 0 ? '' : source.slice(end + 3));
}

const RULES: Array<[RegExp, string]> = [
  [/\.(dropTable|dropColumn|dropView|dropConstraint)\(/, 'drops'],
  [/\.(renameTo|renameColumn)\(/, 'renames'],
  [/\.(alterColumn|modifyColumn)\(/, 'changes a column'],
  [/\bdrop\s+(table|column|view|constraint)\b/i, 'drops (SQL)'],
  [/\brename\s+(to|column)\b/i, 'renames (SQL)'],
  [/\balter\s+column\b/i, 'changes a column (SQL)'],
];

/** What in a migration's text breaks the rule; empty when it only adds. */
function breaches(source: string): string[] {
  const text = upText(source);
  const found = RULES.filter(([re]) => re.test(text)).map(([, what]) => what);
  // A NOT NULL column added to a table that has rows needs a default, or the previous version's
  // inserts (which do not name it) fail. One schema statement per `await`.
  for (const statement of text.split(/\bawait\b/)) {
    const adds = /\.alterTable\(/.test(statement) && /\.addColumn\(/.test(statement);
    if (adds && /\.notNull\(\)/.test(statement) && !/\.defaultTo\(/.test(statement)) {
      found.push('adds a NOT NULL column without a default');
    }
    if (/\badd\s+column\b[^;`]*\bnot\s+null\b/i.test(statement) && !/\bdefault\b/i.test(statement)) {
      found.push('adds a NOT NULL column without a default (SQL)');
    }
  }
  return found;
}

describe('migrations only add', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

  it('every migration file is one the migrator runs', () => {
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual([...KNOWN_MIGRATIONS]);
  });

  it('no migration drops, renames or retypes, or adds a NOT NULL column without a default, unless allowed with a reason', () => {
    const found = Object.fromEntries(
      files
        .map((f) => [f.replace(/\.ts$/, ''), breaches(readFileSync(path.join(DIR, f), 'utf8'))] as const)
        .filter(([name, what]) => what.length > 0 && ALLOWED[name] === undefined),
    );
    expect(found).toEqual({});
  });

  it('the allowed list names only migrations that need it', () => {
    const stale = Object.keys(ALLOWED).filter(
      (name) =>
        !files.includes(`${name}.ts`) || breaches(readFileSync(path.join(DIR, `${name}.ts`), 'utf8')).length === 0,
    );
    expect(stale).toEqual([]);
  });

  it('the check sees what breaks the rule', () => {
    const up = (body: string) =>
      `export async function up(db) {\n${body}\n}\nexport async function down(db) {\n  await db.schema.dropTable('t').execute();\n}\n`;
    expect(
      breaches(up("  await db.schema.createTable('t').addColumn('a', 'text', (c) => c.notNull()).execute();")),
    ).toEqual([]);
    expect(breaches(up("  await db.schema.alterTable('t').addColumn('a', 'text').execute();"))).toEqual([]);
    expect(
      breaches(
        up("  await db.schema.alterTable('t').addColumn('a', 'text', (c) => c.notNull().defaultTo('x')).execute();"),
      ),
    ).toEqual([]);
    expect(
      breaches(up("  await db.schema.alterTable('t').addColumn('a', 'text', (c) => c.notNull()).execute();")),
    ).toEqual(['adds a NOT NULL column without a default']);
    expect(breaches(up("  await db.schema.alterTable('t').dropColumn('a').execute();"))).toEqual(['drops']);
    expect(breaches(up("  await db.schema.alterTable('t').renameColumn('a', 'b').execute();"))).toEqual(['renames']);
    expect(
      breaches(up("  await db.schema.alterTable('t').alterColumn('a', (c) => c.setDataType('bigint')).execute();")),
    ).toEqual(['changes a column']);
    expect(breaches(up('  await sql`ALTER TABLE t ALTER COLUMN a TYPE bigint`.execute(db);'))).toEqual([
      'changes a column (SQL)',
    ]);
    expect(breaches(up('  await sql`alter table t add column a text not null`.execute(db);'))).toEqual([
      'adds a NOT NULL column without a default (SQL)',
    ]);
    expect(breaches(up('  await sql`drop table t`.execute(db);'))).toEqual(['drops (SQL)']);
  });
});

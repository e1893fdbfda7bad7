import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { AuditEventView } from '../audit/audit-view.js';
import type { Config } from '../config/config.js';
import { CliError } from './client.js';
import { io } from './io.js';
import { clientAction, int, query } from './manage-commands.js';
import { print } from './output.js';

/** Longest `what` cell in the table (the full event is in --json). */
const WHAT_WIDTH = 100;

/** `llm-proxy audit`: `list` through the management API; `verify` is added by main.ts (it opens the store). */
export function auditCommand(program: Command): Command {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  clientAction(
    audit
      .command('list')
      .description('audit events, newest first')
      .option(
        '--action <action>',
        'an action (token.created), or a glob where * matches anything (token.*, *.deleted); older names of an action match too',
      )
      .option('--target-type <type>', 'project, token, model, route or audit')
      .option('--target-id <id>', 'the target id (a project or token id, a model name)')
      .option('--actor <actor>', 'management-token, system, token or anonymous, or type:id (token:<id>)')
      .option('--from <time>', 'start, RFC 3339 or epoch ms (inclusive)')
      .option('--to <time>', 'end, RFC 3339 or epoch ms (exclusive)')
      .option('--limit <n>', 'page size (default 100, at most 1000)', int)
      .option('--cursor <c>', 'next page'),
    async (c, _a, o) => {
      const res = await c.call<{ data: AuditEventView[]; next_cursor: string | null }>(
        'GET',
        `/audit${query({
          action: o.action,
          target_type: o.targetType,
          target_id: o.targetId,
          actor: o.actor,
          from: o.from,
          to: o.to,
          limit: o.limit,
          cursor: o.cursor,
        })}`,
      );
      if (o.json) return res;
      const data = res.data.map((e) => ({
        seq: e.seq,
        time: e.time,
        actor: e.actor_id ? `${e.actor_type}:${e.actor_id}` : e.actor_type,
        action: e.action,
        target: e.target_id ? `${e.target_type}:${e.target_id}` : (e.target_type ?? '-'),
        client_ip: e.client_ip,
        what: what(e),
      }));
      print({ data, next_cursor: res.next_cursor }, false, [
        'seq',
        'time',
        'actor',
        'action',
        'target',
        'client_ip',
        'what',
      ]);
      return undefined;
    },
  );
  return audit;
}

/** The changed fields as `field: before → after`, or the details, on one line. */
function what(e: AuditEventView): string {
  const { changes } = e;
  let text: string;
  if (changes?.before && changes.after) {
    text = Object.keys(changes.after)
      .map((k) => `${k}: ${JSON.stringify(changes.before?.[k])} → ${JSON.stringify(changes.after?.[k])}`)
      .join(', ');
  } else if (changes) {
    text = JSON.stringify(changes.after ?? changes.before);
  } else text = e.details ? JSON.stringify(e.details) : '';
  return text.length > WHAT_WIDTH ? `${text.slice(0, WHAT_WIDTH - 1)}…` : text;
}

/**
 * `llm-proxy audit verify`: walks the chain in the database with the configured key and reports the
 * first broken link; exits non-zero when there is one.
 */
export async function verifyAudit(config: Config, json: boolean): Promise<void> {
  const { readKeyring } = await import('../startup/secret-files.js');
  const { openDatabase } = await import('../store/database.js');
  const { pendingMigrations } = await import('../store/migrate.js');
  const { AuditRepo } = await import('../store/audit-repo.js');
  const { AuditChain } = await import('../audit/chain.js');
  const { verifyChain } = await import('../audit/verify.js');
  const chain = AuditChain.fromKeyring(readKeyring(config));
  // Reading only: a database that is not there is not created.
  if (config.database.kind === 'sqlite' && !existsSync(config.database.path)) {
    throw new CliError(`no database at ${config.database.path} (set DATA_DIR or DATABASE_URL)`);
  }
  const db = openDatabase(config.database);
  try {
    const pending = await pendingMigrations(db);
    if (pending.includes('0005-audit-events')) {
      throw new CliError(`this database has no audit trail yet (pending migrations: ${pending.join(', ')})`);
    }
    const result = await verifyChain(new AuditRepo(db), chain);
    if (json) io().stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!result.ok) {
      const { broken } = result;
      if (!json) {
        io().stdout.write(
          `BROKEN at seq ${broken.seq}${broken.id ? ` (id ${broken.id})` : ''}: ${broken.kind}\n  ${broken.message}\n` +
            `${result.checked} event(s) before it verified.\n`,
        );
      }
      throw new CliError(`the audit chain is broken at seq ${broken.seq} (${broken.kind})`);
    }
    if (!json) {
      const range = result.firstSeq === null ? '' : ` (seq ${result.firstSeq}–${result.lastSeq})`;
      const pruned =
        result.prunedThrough === null
          ? ''
          : `; events up to seq ${result.prunedThrough} were removed by retention, each removal anchored by an audit.pruned event`;
      io().stdout.write(
        `OK: ${result.events} audit event(s) verified${range}, the chain is unbroken to its head${pruned}\n`,
      );
    }
  } finally {
    await db.destroy();
  }
}

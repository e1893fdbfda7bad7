import type { Command } from 'commander';
import { ROLES, type Role } from '../access/roles.js';
import { systemActor } from '../audit/audit-event.js';
import type { Runtime } from '../runtime.js';
import { CliError } from './client.js';
import { io } from './io.js';
import { print } from './output.js';
import { readNewPassword } from './password-input.js';

/** Opens the store (like `rekey`), runs `fn` with it, closes it. */
export type WithRuntime = (cmd: Command, fn: (runtime: Runtime) => Promise<void>) => Promise<void>;

const CLI = { actor: systemActor('cli') };
const COLUMNS = ['id', 'username', 'role', 'disabled', 'last_sign_in_at', 'created_at'];

function role(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

/**
 * `llm-proxy admin-user add|list|remove|passwd`: admin users of the management API. They open the
 * store directly, since they must work before anyone can sign in; changes are audited with the
 * actor `system:cli`. `storeFlags` adds --data-dir, --database-url and --config.
 */
export function adminUserCommands(
  program: Command,
  storeFlags: (c: Command) => Command,
  withRuntime: WithRuntime,
): void {
  const cmd = program
    .command('admin-user')
    .description('admin users who sign in to the management API and the admin UI');

  storeFlags(
    cmd
      .command('add <username>')
      .description('create a user; the password is prompted for (no echo) or read with --password-stdin')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
      .option('--password-stdin', 'read the password from standard input')
      .option('--disabled', 'create the user disabled')
      .option('--json', 'print the user as JSON'),
  ).action(
    async (
      username: string,
      o: { role: Role; passwordStdin?: boolean; disabled?: boolean; json?: boolean },
      c: Command,
    ) => {
      const password = await readNewPassword(Boolean(o.passwordStdin));
      await withRuntime(c, async (rt) => {
        const user = await rt.access.users.create({ username, role: o.role, password, disabled: o.disabled }, CLI);
        print(user, Boolean(o.json));
      });
    },
  );

  storeFlags(cmd.command('list').description('list the users').option('--json', 'print JSON')).action(
    async (o: { json?: boolean }, c: Command) => {
      await withRuntime(c, async (rt) => {
        const data = [];
        let cursor: string | undefined;
        do {
          const page = await rt.access.users.list({ limit: 1000, cursor });
          data.push(...page.data);
          cursor = page.next_cursor ?? undefined;
        } while (cursor);
        print({ data, next_cursor: null }, Boolean(o.json), COLUMNS);
      });
    },
  );

  storeFlags(cmd.command('remove <username>').description('delete a user and end their sessions')).action(
    async (username: string, _o: unknown, c: Command) => {
      await withRuntime(c, async (rt) => {
        const user = await rt.access.users.byUsername(username);
        await rt.access.users.delete(user.id, CLI);
        io().stdout.write(`removed ${user.username}\n`);
      });
    },
  );

  storeFlags(
    cmd
      .command('passwd <username>')
      .description("set a user's password (ends their sessions); prompted for, or read with --password-stdin")
      .option('--password-stdin', 'read the password from standard input'),
  ).action(async (username: string, o: { passwordStdin?: boolean }, c: Command) => {
    const password = await readNewPassword(Boolean(o.passwordStdin));
    await withRuntime(c, async (rt) => {
      const user = await rt.access.users.byUsername(username);
      await rt.access.users.update(user.id, { password }, CLI);
      io().stdout.write(`password changed for ${user.username}\n`);
    });
  });
}

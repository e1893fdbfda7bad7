import type { Command } from 'commander';
import { ManageClient } from './client.js';
import { print } from './output.js';

type Opts = Record<string, unknown>;

/** Adds --url/--management-token/--json to a client command and runs it against the server. */
function clientAction(
  cmd: Command,
  run: (client: ManageClient, args: string[], opts: Opts) => Promise<unknown>,
): Command {
  return cmd
    .option('--url <url>', 'server URL (env LLM_PROXY_URL, default http://localhost:8080)')
    .option('--management-token <token>', 'management token (env MANAGEMENT_TOKEN, else ./data/management-token)')
    .option('--json', 'print the raw JSON reply, for scripts')
    .action(async (...argv: unknown[]) => {
      const command = argv[argv.length - 1] as Command;
      const opts = command.opts<Opts>();
      const client = new ManageClient({
        ...(opts.url ? { url: String(opts.url) } : {}),
        ...(opts.managementToken ? { managementToken: String(opts.managementToken) } : {}),
      });
      const result = await run(client, command.args, opts);
      if (result !== undefined) print(result, Boolean(opts.json));
    });
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
};
const enc = encodeURIComponent;
const defined = (o: Opts) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function projectCommands(program: Command): void {
  const project = program.command('project').description('manage projects (upstream keys) on a running server');

  clientAction(
    project
      .command('create')
      .description('register a project with its real upstream API key')
      .requiredOption('--name <name>', 'unique project name')
      .requiredOption('--api-key <key>', 'real upstream API key (stored encrypted, never shown again)')
      .option('--base-url <url>', 'upstream origin (default OPENAI_API_URL)')
      .option('--inactive', 'create it deactivated'),
    (c, _a, o) =>
      c.call(
        'POST',
        '/projects',
        defined({ name: o.name, api_key: o.apiKey, base_url: o.baseUrl, is_active: o.inactive ? false : undefined }),
      ),
  );
  clientAction(
    project
      .command('list')
      .description('list projects')
      .option('--limit <n>', 'page size', int)
      .option('--cursor <c>', 'next page'),
    (c, _a, o) => c.call('GET', `/projects${query({ limit: o.limit, cursor: o.cursor })}`),
  );
  clientAction(project.command('get').argument('<id>').description('show a project'), (c, [id]) =>
    c.call('GET', `/projects/${enc(id ?? '')}`),
  );
  clientAction(
    project
      .command('update')
      .argument('<id>')
      .description('change name, key, upstream or activity')
      .option('--name <name>')
      .option('--api-key <key>')
      .option('--base-url <url>', 'new upstream origin ("" to use the default)')
      .option('--active', 'activate')
      .option('--inactive', 'deactivate (its tokens stop working)')
      .option('--revoke-tokens', 'revoke all its tokens'),
    (c, [id], o) =>
      c.call(
        'PATCH',
        `/projects/${enc(id ?? '')}`,
        defined({
          name: o.name,
          api_key: o.apiKey,
          base_url: o.baseUrl === '' ? null : o.baseUrl,
          is_active: o.active ? true : o.inactive ? false : undefined,
          revoke_tokens: o.revokeTokens ? true : undefined,
        }),
      ),
  );
  clientAction(
    project.command('delete').argument('<id>').description('delete a project and its tokens'),
    async (c, [id]) => {
      await c.call('DELETE', `/projects/${enc(id ?? '')}`);
      return { deleted: id };
    },
  );
}

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('manage proxy tokens on a running server');

  clientAction(
    token
      .command('create')
      .description('issue a token (the plaintext is printed once)')
      .requiredOption('--project <id>', 'project id')
      .option('--name <name>', 'label, e.g. who or what uses it')
      .option('--duration-minutes <n>', 'lifetime in minutes', int)
      .option('--expires-at <iso>', 'absolute expiry (RFC 3339)')
      .option('--max-requests <n>', 'lifetime request cap', int),
    (c, _a, o) =>
      c.call(
        'POST',
        '/tokens',
        defined({
          project_id: o.project,
          name: o.name,
          duration_minutes: o.durationMinutes,
          expires_at: o.expiresAt,
          max_requests: o.maxRequests,
        }),
      ),
  );
  clientAction(
    token
      .command('list')
      .description('list tokens')
      .option('--project <id>', 'only this project')
      .option('--active', 'only active tokens')
      .option('--limit <n>', 'page size', int)
      .option('--cursor <c>', 'next page'),
    (c, _a, o) =>
      c.call(
        'GET',
        `/tokens${query({ project_id: o.project, active: o.active ? 'true' : undefined, limit: o.limit, cursor: o.cursor })}`,
      ),
  );
  clientAction(token.command('get').argument('<id>').description('show a token'), (c, [id]) =>
    c.call('GET', `/tokens/${enc(id ?? '')}`),
  );
  clientAction(
    token
      .command('update')
      .argument('<id>')
      .description('change name, expiry, cap or activity')
      .option('--name <name>')
      .option('--duration-minutes <n>', 'new lifetime from now', int)
      .option('--expires-at <iso>', 'new absolute expiry ("never" for none)')
      .option('--max-requests <n>', 'new cap (0 for none)', int)
      .option('--active', 'reactivate')
      .option('--inactive', 'deactivate'),
    (c, [id], o) =>
      c.call(
        'PATCH',
        `/tokens/${enc(id ?? '')}`,
        defined({
          name: o.name,
          duration_minutes: o.durationMinutes,
          expires_at: o.expiresAt === 'never' ? null : o.expiresAt,
          max_requests: o.maxRequests === 0 ? null : o.maxRequests,
          is_active: o.active ? true : o.inactive ? false : undefined,
        }),
      ),
  );
  clientAction(token.command('revoke').argument('<id>').description('revoke a token'), async (c, [id]) => {
    await c.call('DELETE', `/tokens/${enc(id ?? '')}`);
    return { revoked: id };
  });
  clientAction(
    token.command('revoke-project').argument('<project-id>').description("revoke all of a project's tokens"),
    (c, [id]) => c.call('POST', `/projects/${enc(id ?? '')}/tokens/revoke`),
  );
}

function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

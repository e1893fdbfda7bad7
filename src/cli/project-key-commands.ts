import { type Command, InvalidArgumentError } from 'commander';
import { clientAction, defined, int, query } from './manage-commands.js';
import { print } from './output.js';

const enc = encodeURIComponent;

const authStyle = (v: string): string => {
  if (v !== 'bearer' && v !== 'api-key') throw new InvalidArgumentError('expected bearer or api-key');
  return v;
};

/** `llm-proxy project key list|add|update|remove`: a project's upstream keys (its key pool). */
export function projectKeyCommands(project: Command): void {
  const key = project
    .command('key')
    .description("manage a project's upstream keys: several keys, each with its own upstream and weight");
  const route = (projectId: string | undefined, keyId?: string) =>
    `/projects/${enc(projectId ?? '')}/keys${keyId === undefined ? '' : `/${enc(keyId)}`}`;

  clientAction(
    key
      .command('list')
      .argument('<project-id>')
      .description("list a project's upstream keys (hints only, never a key)")
      .option('--limit <n>', 'page size', int)
      .option('--cursor <c>', 'next page'),
    async (c, [pid], o) => {
      const res = await c.call('GET', `${route(pid)}${query({ limit: o.limit, cursor: o.cursor })}`);
      print(res, Boolean(o.json), [
        'id',
        'name',
        'api_key_hint',
        'auth_style',
        'weight',
        'enabled',
        'http2',
        'base_url',
      ]);
      return undefined;
    },
  );
  clientAction(
    key
      .command('add')
      .argument('<project-id>')
      .description('add an upstream key to a project (used from the next request on)')
      .requiredOption('--name <name>', 'name, unique in the project')
      .requiredOption('--api-key <key>', 'real upstream API key (stored encrypted, never shown again)')
      .option('--base-url <url>', "upstream base URL for this key (default: the project's, else OPENAI_API_URL)")
      .option(
        '--auth-style <style>',
        'bearer (Authorization: Bearer, the default) or api-key (Azure OpenAI)',
        authStyle,
      )
      .option('--weight <n>', 'share of requests relative to the other enabled keys (1-1000, default 1)', int)
      .option('--disabled', 'add it disabled')
      .option('--http2', "offer HTTP/2 to the key's upstream over TLS (HTTP/1.1 where it does not take it)"),
    (c, [pid], o) =>
      c.call(
        'POST',
        route(pid),
        defined({
          name: o.name,
          api_key: o.apiKey,
          base_url: o.baseUrl,
          auth_style: o.authStyle,
          weight: o.weight,
          enabled: o.disabled ? false : undefined,
          http2: o.http2 ? true : undefined,
        }),
      ),
  );
  clientAction(
    key
      .command('update')
      .argument('<project-id>')
      .argument('<key-id>')
      .description('rotate, enable, disable, reweigh, rename or repoint an upstream key')
      .option('--name <name>', 'new name, unique in the project')
      .option('--api-key <key>', 'new real upstream API key (rotation; stored encrypted, never shown again)')
      .option('--base-url <url>', 'new upstream base URL ("" to use the project\'s)')
      .option('--auth-style <style>', 'bearer or api-key', authStyle)
      .option('--weight <n>', 'new weight (1-1000)', int)
      .option('--enable', 'use the key again')
      .option('--disable', "stop using the key (refused for the project's last enabled key)")
      .option('--http2', "offer HTTP/2 to the key's upstream over TLS")
      .option('--no-http2', 'speak HTTP/1.1 to it again'),
    (c, [pid, kid], o) =>
      c.call(
        'PATCH',
        route(pid, kid ?? ''),
        defined({
          name: o.name,
          api_key: o.apiKey,
          base_url: o.baseUrl === '' ? null : o.baseUrl,
          auth_style: o.authStyle,
          weight: o.weight,
          enabled: o.enable ? true : o.disable ? false : undefined,
          http2: o.http2,
        }),
      ),
  );
  clientAction(
    key
      .command('remove')
      .argument('<project-id>')
      .argument('<key-id>')
      .description("remove an upstream key (refused for the project's last enabled key)"),
    async (c, [pid, kid]) => {
      await c.call('DELETE', route(pid, kid ?? ''));
      return { removed: kid };
    },
  );
}

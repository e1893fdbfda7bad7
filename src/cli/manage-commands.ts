import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CliError, ManageClient } from './client.js';
import { io } from './io.js';
import { print } from './output.js';
import { projectKeyCommands } from './project-key-commands.js';

type Opts = Record<string, unknown>;

/** Adds --url/--management-token/--json to a client command and runs it against the server. */
export function clientAction(
  cmd: Command,
  run: (client: ManageClient, args: string[], opts: Opts) => Promise<unknown>,
): Command {
  return cmd
    .option('--url <url>', 'server URL (env LLM_PROXY_URL, default http://localhost:8080)')
    .option(
      '--management-token <token>',
      'management token (env MANAGEMENT_TOKEN, else the file DATA_DIR/management-token; DATA_DIR defaults to ./data)',
    )
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

export const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${v}`);
  return n;
};
const enc = encodeURIComponent;
export const defined = (o: Opts) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * A flag value that clears a limit (sent as null). Commander turns a parser's null into '', so
 * parsers return this marker and `limitBody` maps it to null.
 */
const CLEAR = Symbol('clear');
type Clearable<T> = T | typeof CLEAR;

/** A count limit: a positive integer; 0 or "none" clears it. */
const limitInt = (v: string): Clearable<number> => {
  if (v === 'none') return CLEAR;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError('expected a whole number, 0 or "none"');
  }
  return n === 0 ? CLEAR : n;
};
/** Dollars: a non-negative number; "none" clears the budget (0 is a budget of nothing). */
const usd = (v: string): Clearable<number> => {
  if (v === 'none') return CLEAR;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('expected dollars, e.g. 25 or 0.5, or "none"');
  return n;
};
const period = (v: string): string => {
  if (!['total', 'day', 'month'].includes(v)) throw new InvalidArgumentError('expected total, day or month');
  return v;
};
/** A comma-separated list; "" clears it (no restriction). */
const list = (v: string): Clearable<string[]> => {
  const items = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return items.length === 0 ? CLEAR : items;
};
const price = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('expected USD per 1M tokens, e.g. 2.5');
  return n;
};
const unitPrice = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected USD, e.g. 0.006');
  return n;
};
/** A JSON object option (`--per-image '{"1024x1024":{"hd":0.08}}'`); the server checks its contents. */
const jsonObject = (v: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected a JSON object');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object');
  return parsed as Record<string, unknown>;
};

/** The units a price has beyond its text token rates, in a few words for `pricing list`. */
function otherUnits(p: Record<string, unknown>): string {
  const parts: string[] = [];
  const rate = (label: string, a: unknown, b: unknown) => {
    if (a !== null || b !== null) parts.push(`${label} ${a ?? '-'}/${b ?? '-'}`);
  };
  rate('audio', p.audio_input, p.audio_output);
  rate('image', p.image_input, p.image_output);
  if (p.per_image) {
    const prices = Object.values(p.per_image as Record<string, Record<string, number>>).flatMap((q) =>
      Object.values(q),
    );
    parts.push(`image $${Math.min(...prices)}-${Math.max(...prices)}`);
  }
  if (p.per_minute !== null && p.per_minute !== undefined) parts.push(`$${p.per_minute}/min`);
  if (p.per_1m_characters !== null && p.per_1m_characters !== undefined) parts.push(`$${p.per_1m_characters}/1M chars`);
  if (p.tiers) parts.push(`tiers ${Object.keys(p.tiers as object).join(',')}`);
  return parts.length === 0 ? '-' : parts.join('; ');
}

/** The limit flags shared by tokens and projects (`--max-requests` too, given `withMaxRequests`). */
function limitOptions(cmd: Command, withMaxRequests: boolean): Command {
  if (withMaxRequests) cmd.option('--max-requests <n>', 'lifetime request cap (0 or "none": no cap)', limitInt);
  return cmd
    .option('--requests-per-minute <n>', 'requests per minute (0 or "none": no limit)', limitInt)
    .option('--max-concurrent <n>', 'requests in flight at once (0 or "none": no limit)', limitInt)
    .option('--tokens-per-minute <n>', 'tokens per minute (0 or "none": no limit)', limitInt)
    .option('--budget-usd <usd>', 'spending cap in US dollars ("none": no cap)', usd)
    .option('--budget-period <period>', 'budget window: total, day or month (UTC)', period)
    .option('--allowed-models <globs>', 'comma-separated model globs, e.g. "gpt-4o*,gpt-4.1*" ("" allows all)', list)
    .option(
      '--allowed-endpoints <rules>',
      'comma-separated endpoint rules, e.g. "POST /v1/chat/*,/v1/embeddings" ("" allows all)',
      list,
    );
}

/** The limit fields of a request body from the flags given (absent flags stay absent). */
const limitBody = (o: Opts): Opts =>
  Object.fromEntries(
    Object.entries(
      defined({
        max_requests: o.maxRequests,
        requests_per_minute: o.requestsPerMinute,
        max_concurrent: o.maxConcurrent,
        tokens_per_minute: o.tokensPerMinute,
        budget_usd: o.budgetUsd,
        budget_period: o.budgetPeriod,
        allowed_models: o.allowedModels,
        allowed_endpoints: o.allowedEndpoints,
      }),
    ).map(([k, v]) => [k, v === CLEAR ? null : v]),
  );

export function projectCommands(program: Command): void {
  const project = program.command('project').description('manage projects (upstream keys) on a running server');

  clientAction(
    limitOptions(project.command('create'), true)
      .description('register a project with its real upstream API key (and limits over all its tokens)')
      .requiredOption('--name <name>', 'unique project name')
      .requiredOption('--api-key <key>', 'real upstream API key (stored encrypted, never shown again)')
      .option('--base-url <url>', 'upstream origin (default OPENAI_API_URL)')
      .option('--cache-ttl <seconds>', 'cache its answers this long (see docs/resilience.md#response-cache)', limitInt)
      .option('--inactive', 'create it deactivated')
      .option('--retry-server-errors', 'retry 5xx answers and timeouts without an Idempotency-Key (default: off)'),
    (c, _a, o) =>
      c.call('POST', '/projects', {
        ...defined({
          name: o.name,
          api_key: o.apiKey,
          base_url: o.baseUrl,
          cache_ttl_seconds: o.cacheTtl === CLEAR ? null : o.cacheTtl,
          is_active: o.inactive ? false : undefined,
          retry_server_errors: o.retryServerErrors ? true : undefined,
        }),
        ...limitBody(o),
      }),
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
    limitOptions(project.command('update'), true)
      .argument('<id>')
      .description('change name, key, upstream, activity, retry policy or limits')
      .option('--name <name>', 'new unique project name')
      .option('--api-key <key>', 'new real upstream API key (stored encrypted, never shown again)')
      .option('--base-url <url>', 'new upstream origin ("" to use the default)')
      .option('--cache-ttl <seconds>', 'cache its answers this long (0 or "none": not cached)', limitInt)
      .option('--active', 'activate')
      .option('--inactive', 'deactivate (its tokens stop working)')
      .option('--retry-server-errors', 'retry 5xx answers and timeouts without an Idempotency-Key')
      .option('--no-retry-server-errors', 'retry them only for requests with an Idempotency-Key (the default)')
      .option('--revoke-tokens', 'revoke all its tokens'),
    (c, [id], o) =>
      c.call(
        'PATCH',
        `/projects/${enc(id ?? '')}`,
        defined({
          name: o.name,
          api_key: o.apiKey,
          base_url: o.baseUrl === '' ? null : o.baseUrl,
          cache_ttl_seconds: o.cacheTtl === CLEAR ? null : o.cacheTtl,
          is_active: o.active ? true : o.inactive ? false : undefined,
          retry_server_errors: o.retryServerErrors,
          revoke_tokens: o.revokeTokens ? true : undefined,
          ...limitBody(o),
        }),
      ),
  );
  clientAction(
    project
      .command('purge-cache')
      .argument('<id>')
      .description("remove the project's cached responses (memory: this instance; Redis: all)"),
    (c, [id]) => c.call('DELETE', `/projects/${enc(id ?? '')}/cache`),
  );
  clientAction(
    project.command('delete').argument('<id>').description('delete a project and its tokens'),
    async (c, [id]) => {
      await c.call('DELETE', `/projects/${enc(id ?? '')}`);
      return { deleted: id };
    },
  );
  projectKeyCommands(project);
}

export function tokenCommands(program: Command): void {
  const token = program.command('token').description('manage proxy tokens on a running server');

  clientAction(
    limitOptions(token.command('create'), true)
      .description('issue a token (the plaintext is printed once)')
      .requiredOption('--project <id>', 'project id')
      .option('--name <name>', 'label, e.g. who or what uses it')
      .option('--duration-minutes <n>', 'lifetime in minutes', int)
      .option('--expires-at <iso>', 'absolute expiry (RFC 3339)'),
    (c, _a, o) =>
      c.call('POST', '/tokens', {
        ...defined({
          project_id: o.project,
          name: o.name,
          duration_minutes: o.durationMinutes,
          expires_at: o.expiresAt,
        }),
        ...limitBody(o),
      }),
  );
  clientAction(
    limitOptions(token.command('batch'), true)
      .description('issue many tokens with the same settings in one transaction (plaintexts printed once)')
      .requiredOption('--project <id>', 'project id')
      .requiredOption('--count <n>', 'how many (1-1000)', int)
      .option(
        '--name-prefix <prefix>',
        'names become <prefix>-1, <prefix>-2, …, zero-padded to the width of --count (<prefix>-01 … <prefix>-20 for 20)',
      )
      .option('--duration-minutes <n>', 'lifetime in minutes', int)
      .option('--expires-at <iso>', 'absolute expiry (RFC 3339)'),
    async (c, _a, o) => {
      const res = await c.call<{ data: Record<string, unknown>[] }>('POST', '/tokens/batch', {
        ...defined({
          project_id: o.project,
          count: o.count,
          name_prefix: o.namePrefix,
          duration_minutes: o.durationMinutes,
          expires_at: o.expiresAt,
        }),
        ...limitBody(o),
      });
      print(res, Boolean(o.json), ['id', 'name', 'expires_at', 'token']);
      return undefined;
    },
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
    limitOptions(token.command('update'), true)
      .argument('<id>')
      .description('change name, expiry, activity or limits')
      .option('--name <name>', 'new label ("" removes it)')
      .option('--duration-minutes <n>', 'new lifetime from now', int)
      .option('--expires-at <iso>', 'new absolute expiry ("never" for none)')
      .option('--active', 'reactivate')
      .option('--inactive', 'deactivate'),
    (c, [id], o) =>
      c.call('PATCH', `/tokens/${enc(id ?? '')}`, {
        ...defined({
          name: o.name === '' ? null : o.name,
          duration_minutes: o.durationMinutes,
          expires_at: o.expiresAt === 'never' ? null : o.expiresAt,
          is_active: o.active ? true : o.inactive ? false : undefined,
        }),
        ...limitBody(o),
      }),
  );
  clientAction(token.command('revoke').argument('<id>').description('revoke a token'), async (c, [id]) => {
    await c.call('DELETE', `/tokens/${enc(id ?? '')}`);
    return { revoked: id };
  });
  clientAction(
    token.command('revoke-project').argument('<project-id>').description("revoke all of a project's tokens"),
    (c, [id]) => c.call('POST', `/projects/${enc(id ?? '')}/tokens/revoke`),
  );
  clientAction(
    token
      .command('revoke-where')
      .description('revoke the active tokens matching every given filter (at least one)')
      .option('--project <id>', 'tokens of this project')
      .option('--name-prefix <prefix>', 'tokens whose name starts with this (case-sensitive)')
      .option('--ids <ids>', 'comma-separated token ids', list)
      .option('--expired', 'tokens past their expiry'),
    (c, _a, o) => {
      const body = defined({
        project_id: o.project,
        name_prefix: o.namePrefix,
        ids: o.ids === CLEAR ? undefined : o.ids,
        expired: o.expired ? true : undefined,
      });
      if (Object.keys(body).length === 0) {
        throw new CliError('give at least one filter: --project, --name-prefix, --ids or --expired');
      }
      return c.call('POST', '/tokens/revoke', body);
    },
  );
}

interface UsageTotalsJson {
  requests: number;
  [k: string]: unknown;
}
interface UsageReportJson {
  from: string | null;
  to: string | null;
  group_by: string | null;
  data: Array<UsageTotalsJson & { latency_ms: Record<string, number | null> }>;
  totals: UsageTotalsJson;
  latency_ms: Record<string, number | null>;
}

const USAGE_GROUP_COLUMNS: Record<string, string[]> = {
  hour: ['hour'],
  day: ['day'],
  model: ['model'],
  token: ['token_id', 'token_name', 'project_name'],
  project: ['project_id', 'project_name'],
};
const USAGE_COLUMNS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'cost_usd',
  'unpriced_requests',
  'avg_duration_ms',
  'p50_ms',
  'p99_ms',
];

/** `llm-proxy usage`: statistics from the rollups, as a table, JSON or CSV. */
export function usageCommand(program: Command): void {
  clientAction(
    program
      .command('usage')
      .description('usage statistics (requests, tokens, cost, latency) from the hourly rollups')
      .option('--project <id>', 'only this project')
      .option('--token <id>', 'only this token')
      .option('--model <model>', 'only this model (exact name as recorded)')
      .option('--from <time>', 'start, RFC 3339 or epoch ms (rounded down to the hour)')
      .option('--to <time>', 'end, exclusive (rounded up to the hour)')
      .option('--group-by <group>', 'hour, day, model, token or project')
      .option('--job <id>', "only this batch's or background response's records (group by model or nothing)")
      .option('--csv', 'print CSV (one row per group)'),
    async (c, _a, o) => {
      const route = `/usage${query({
        project_id: o.project,
        token_id: o.token,
        model: o.model,
        from: o.from,
        to: o.to,
        group_by: o.groupBy,
        job_id: o.job,
      })}`;
      if (o.csv) {
        io().stdout.write(await c.text(route, 'text/csv'));
        return undefined;
      }
      const report = await c.call<UsageReportJson>('GET', route);
      if (o.json) return report;
      const groupCols = USAGE_GROUP_COLUMNS[report.group_by ?? ''] ?? [];
      const flat = (r: UsageTotalsJson, latency: Record<string, number | null>) => ({
        ...r,
        p50_ms: latency.p50 ?? null,
        p99_ms: latency.p99 ?? null,
      });
      const rows = report.data.map((r) => flat(r, r.latency_ms));
      if (groupCols.length > 0) {
        rows.push({ ...flat(report.totals, report.latency_ms), [groupCols[0] as string]: 'total' });
      } else if (rows.length === 0) {
        rows.push(flat(report.totals, report.latency_ms));
      }
      io().stdout.write(`from ${report.from ?? 'the beginning'} to ${report.to ?? 'now'}\n`);
      print({ data: rows }, false, [...groupCols, ...USAGE_COLUMNS]);
      return undefined;
    },
  );
}

const RECORD_COLUMNS = [
  'created_at',
  'id',
  'token_name',
  'path',
  'model',
  'status',
  'total_tokens',
  'cost_usd',
  'job_id',
];

/** `llm-proxy records`: usage records newest first, by token, project or job. */
export function recordsCommand(program: Command): void {
  clientAction(
    program
      .command('records')
      .description('usage records, newest first (one per request, one per batch line or background response)')
      .option('--project <id>', 'only this project')
      .option('--token <id>', 'only this token')
      .option('--job <id>', "only this batch's or background response's records")
      .option('--kind <kind>', 'request (ordinary requests only) or job (batch and background records only)')
      .option('--limit <n>', 'page size', int)
      .option('--cursor <c>', 'next page'),
    async (c, _a, o) => {
      const page = await c.call<{ data: Array<Record<string, unknown>>; next_cursor: string | null }>(
        'GET',
        `/usage/records${query({
          project_id: o.project,
          token_id: o.token,
          job_id: o.job,
          kind: o.kind,
          limit: o.limit,
          cursor: o.cursor,
        })}`,
      );
      if (o.json) return page;
      print(page, false, RECORD_COLUMNS);
      return undefined;
    },
  );
}

/** `llm-proxy pricing list|set|unset`: the effective price table and its overrides. */
export function pricingCommands(program: Command): void {
  const pricing = program
    .command('pricing')
    .description('model prices (USD per 1M tokens, per image, minute, character, tool call) on a running server');
  clientAction(
    pricing
      .command('list')
      .description('the prices in effect: shipped table, PRICING_FILE and overrides')
      .option('--source <source>', 'only built_in, file or override'),
    async (c, _a, o) => {
      const res = await c.call<{
        as_of: string | null;
        data: Array<Record<string, unknown>>;
        tools?: Record<string, { per_1k_calls: number; models?: Record<string, number> }>;
        service_tiers?: Record<string, number>;
      }>('GET', '/pricing');
      if (o.json) return res;
      const data = (o.source ? res.data.filter((p) => p.source === o.source) : res.data).map((p) => ({
        ...p,
        other_units: otherUnits(p),
      }));
      print({ data }, false, [
        'model',
        'source',
        'input',
        'cached_input',
        'output',
        'reasoning',
        'other_units',
        'updated_at',
      ]);
      const tools = Object.entries(res.tools ?? {}).map(
        ([tool, t]) =>
          `${tool} $${t.per_1k_calls}${Object.entries(t.models ?? {})
            .map(([m, fee]) => `, ${m} $${fee}`)
            .join('')}`,
      );
      const tiers = Object.entries(res.service_tiers ?? {}).map(([tier, m]) => `${tier} ×${m}`);
      io().stdout.write(
        `\nUSD per 1M tokens; table as of ${res.as_of ?? 'unknown'}` +
          `${tools.length ? `\ntool fees per 1k calls: ${tools.join('; ')}` : ''}` +
          `${tiers.length ? `\nservice tiers: ${tiers.join(', ')}` : ''}\n`,
      );
      return undefined;
    },
  );
  clientAction(
    pricing
      .command('set')
      .argument('<model>')
      .description("set a model's price (applies to the next request)")
      .requiredOption('--input <usd>', 'USD per 1M input tokens', price)
      .requiredOption('--output <usd>', 'USD per 1M output tokens', price)
      .option('--cached-input <usd>', 'USD per 1M cached input tokens', price)
      .option('--reasoning <usd>', 'USD per 1M reasoning tokens, if priced apart from output', price)
      .option('--audio-input <usd>', 'USD per 1M audio input tokens', price)
      .option('--cached-audio-input <usd>', 'USD per 1M cached audio input tokens', price)
      .option('--audio-output <usd>', 'USD per 1M audio output tokens', price)
      .option('--image-input <usd>', 'USD per 1M image input tokens', price)
      .option('--cached-image-input <usd>', 'USD per 1M cached image input tokens', price)
      .option('--image-output <usd>', 'USD per 1M image output tokens', price)
      .option('--per-minute <usd>', 'USD per minute of audio (when the answer reports no tokens)', unitPrice)
      .option(
        '--per-1m-characters <usd>',
        'USD per 1M characters of speech (when the answer reports no tokens)',
        unitPrice,
      )
      .option('--per-image <json>', 'USD per image by size and quality: \'{"1024x1024":{"hd":0.08}}\'', jsonObject)
      .option('--tiers <json>', 'token rates per service tier: \'{"priority":{"input":2.5,"output":20}}\'', jsonObject),
    (c, [model], o) =>
      c.call(
        'PUT',
        `/pricing/${enc(model ?? '')}`,
        defined({
          input: o.input,
          output: o.output,
          cached_input: o.cachedInput,
          reasoning: o.reasoning,
          audio_input: o.audioInput,
          cached_audio_input: o.cachedAudioInput,
          audio_output: o.audioOutput,
          image_input: o.imageInput,
          cached_image_input: o.cachedImageInput,
          image_output: o.imageOutput,
          per_minute: o.perMinute,
          per_1m_characters: o.per1mCharacters,
          per_image: o.perImage,
          tiers: o.tiers,
        }),
      ),
  );
  clientAction(
    pricing.command('unset').argument('<model>').description("remove a model's override"),
    async (c, [model]) => {
      await c.call('DELETE', `/pricing/${enc(model ?? '')}`);
      return { unset: model };
    },
  );
}

/** `?a=1&b=2` of the parameters that are set ('' when none is). */
export function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

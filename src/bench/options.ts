import { readFileSync } from 'node:fs';
import type { BenchSpec, TargetSpec } from './bench.js';
import { type Profile, resolveProfile } from './profiles.js';
import type { RequestSpec } from './request-kind.js';
import { parseDuration } from './units.js';

/** The command line as commander hands it over (every flag optional; defaults are applied here). */
export interface BenchFlags {
  url?: string;
  endpoint?: string;
  method?: string;
  body?: string;
  bodyFile?: string;
  model?: string;
  stream?: boolean;
  token?: string;
  header?: string[];
  concurrency?: number;
  requests?: number;
  duration?: string;
  rate?: number;
  timeout?: string;
  profile?: string;
  label?: string;
  direct?: string;
  proxy?: string;
  directToken?: string;
  against?: string[];
  rounds?: number;
  warmup?: string;
}

export const DEFAULTS = {
  url: 'http://localhost:8080',
  endpoint: 'chat',
  concurrency: 10,
  duration: '10s',
  timeout: '30s',
  rounds: 5,
  /** Warm-up per target when comparing (none for a plain run unless asked). */
  compareWarmup: '1s',
} as const;

export class OptionsError extends Error {}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new OptionsError(`${flag}: ${(err as Error).message}`);
  }
}

/** `Name: value` → [name, value]. */
export function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new OptionsError(`-H expects "Name: value", got ${JSON.stringify(text)}`);
  return [text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim()];
}

/** `name=URL` → a reference target; `name=URL,token=T` gives it a token of its own (another proxy). */
function parseAgainst(text: string, token: string | undefined): TargetSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new OptionsError(`--against expects name=URL, got ${JSON.stringify(text)}`);
  const rest = text.slice(eq + 1);
  const own = rest.indexOf(',token=');
  if (own === -1) return { label: text.slice(0, eq), url: rest, token };
  return { label: text.slice(0, eq), url: rest.slice(0, own), token: rest.slice(own + ',token='.length) };
}

function requestsFrom(flags: BenchFlags, profile: Profile | undefined, read: (f: string) => string): RequestSpec[] {
  if (profile) {
    const clash = (['endpoint', 'method', 'body', 'bodyFile', 'stream'] as const).filter((k) => flags[k] !== undefined);
    if (clash.length > 0) {
      throw new OptionsError(
        `--profile sets the requests itself; drop ${clash.map((k) => `--${kebab(k)}`).join(', ')}`,
      );
    }
    return profile.requests.map((r) => (flags.model ? { ...r, model: flags.model } : r));
  }
  if (flags.body !== undefined && flags.bodyFile !== undefined) {
    throw new OptionsError('give --body or --body-file, not both');
  }
  let body = flags.body;
  if (flags.bodyFile !== undefined) {
    try {
      body = read(flags.bodyFile);
    } catch (err) {
      throw new OptionsError(`cannot read --body-file: ${(err as Error).message}`);
    }
  }
  const spec: RequestSpec = { endpoint: flags.endpoint ?? DEFAULTS.endpoint };
  if (flags.method !== undefined) spec.method = flags.method;
  if (body !== undefined) spec.body = body;
  if (flags.stream) spec.stream = true;
  if (flags.model !== undefined) spec.model = flags.model;
  return [spec];
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Flags (and a profile's defaults) → what to run. Flags win over the profile; the profile wins
 * over the built-in defaults. `defaultUrl` is LLM_PROXY_URL when set.
 */
export function resolveSpec(
  flags: BenchFlags,
  opts: { defaultUrl?: string | undefined; read?: (file: string) => string } = {},
): BenchSpec {
  const read = opts.read ?? ((f: string) => readFileSync(f, 'utf8'));
  let profile: Profile | undefined;
  if (flags.profile !== undefined) {
    try {
      profile = resolveProfile(flags.profile, read);
    } catch (err) {
      throw new OptionsError((err as Error).message);
    }
  }
  const requests = requestsFrom(flags, profile, read);

  const headers: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const [k, v] = parseHeader(h);
    headers[k] = v;
  }

  const comparing = flags.direct !== undefined || flags.proxy !== undefined || (flags.against?.length ?? 0) > 0;
  let targets: TargetSpec[];
  if (comparing) {
    if (flags.direct === undefined || flags.proxy === undefined) {
      throw new OptionsError('a comparison needs both --direct <upstream URL> and --proxy <proxy URL>');
    }
    if (flags.url !== undefined) throw new OptionsError('give a target URL or --direct/--proxy, not both');
    const directToken = flags.directToken ?? flags.token;
    targets = [
      { label: 'direct', url: flags.direct, token: directToken },
      { label: 'proxy', url: flags.proxy, token: flags.token },
      ...(flags.against ?? []).map((a) => parseAgainst(a, directToken)),
    ];
  } else {
    if (flags.directToken !== undefined) throw new OptionsError('--direct-token goes with --direct');
    targets = [{ label: flags.label ?? 'run', url: flags.url ?? opts.defaultUrl ?? DEFAULTS.url, token: flags.token }];
  }

  if (flags.requests !== undefined && flags.duration !== undefined) {
    throw new OptionsError('give -n (requests) or -d (duration), not both');
  }
  const concurrency = flags.concurrency ?? profile?.concurrency ?? DEFAULTS.concurrency;
  const requestsCount = flags.requests;
  const durationMs =
    requestsCount === undefined ? duration('-d', flags.duration ?? profile?.duration ?? DEFAULTS.duration) : undefined;
  if (durationMs !== undefined && durationMs <= 0) throw new OptionsError('-d must be above 0');
  if (requestsCount !== undefined && requestsCount <= 0) throw new OptionsError('-n must be above 0');
  if (flags.rate !== undefined && !(flags.rate > 0)) throw new OptionsError('--rate must be above 0');

  return {
    targets,
    requests,
    headers,
    plan: {
      concurrency,
      requests: requestsCount,
      durationMs,
      rate: flags.rate,
    },
    timeoutMs: duration('--timeout', flags.timeout ?? DEFAULTS.timeout),
    rounds: flags.rounds ?? DEFAULTS.rounds,
    warmupMs: duration('--warmup', flags.warmup ?? (comparing ? DEFAULTS.compareWarmup : '0')),
    profile: profile?.name ?? null,
  };
}

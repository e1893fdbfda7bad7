import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { compileGlob } from '../limits/allowlist.js';
import { CliError } from './client.js';
import { io } from './io.js';

/** A JSON-lines log line, parsed: the proxy's own lines are flat objects. */
export type LogLine = Record<string, unknown>;

/** What `llm-proxy logs` filters on; every given filter must match (AND). */
export interface LogFilterOptions {
  token?: string;
  project?: string;
  /** `200`, `4xx`, `>=400`, or a comma-separated list of those. */
  status?: string;
  /** A model name or glob (`gpt-4o*`). */
  model?: string;
  /** A path prefix (`/v1/chat`) or a glob with `*` or `?`. */
  path?: string;
  /** An ISO time or a duration back from now (`15m`, `2h`, `7d`). */
  since?: string;
  until?: string;
  /** Least severe level shown (`warn` shows warn, error, fatal). */
  level?: string;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2026-12-01T10:00:00Z`, `2026-12-01` or a duration back from `now`: milliseconds since the epoch. */
export function parseTime(value: string, flag: string, now: number): number {
  const d = DURATION.exec(value);
  if (d) return now - Number(d[1]) * (UNIT_MS[d[2] as string] as number);
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new CliError(`${flag}: expected an ISO time (2026-12-01T10:00:00Z) or a duration (15m, 2h, 7d)`);
  return t;
}

function statusMatcher(spec: string): (status: number) => boolean {
  const parts = spec.split(',').map((p) => p.trim());
  const tests = parts.map((p): ((s: number) => boolean) => {
    let m = /^([1-5])xx$/i.exec(p);
    if (m) return (s) => Math.floor(s / 100) === Number(m?.[1]);
    m = /^(>=|<=|>|<)?(\d{3})$/.exec(p);
    if (!m) throw new CliError(`--status: expected a code (429), a class (5xx) or a comparison (>=400), not "${p}"`);
    const n = Number(m[2]);
    switch (m[1]) {
      case '>=':
        return (s) => s >= n;
      case '<=':
        return (s) => s <= n;
      case '>':
        return (s) => s > n;
      case '<':
        return (s) => s < n;
      default:
        return (s) => s === n;
    }
  });
  return (s) => tests.some((t) => t(s));
}

/** One predicate for all the given filters; request filters leave out lines that are not requests. */
export function logFilter(o: LogFilterOptions, now = Date.now()): (line: LogLine) => boolean {
  const checks: ((l: LogLine) => boolean)[] = [];
  if (o.token !== undefined) checks.push((l) => l.token_id === o.token);
  if (o.project !== undefined) checks.push((l) => l.project_id === o.project);
  if (o.status !== undefined) {
    const ok = statusMatcher(o.status);
    checks.push((l) => typeof l.status === 'number' && ok(l.status));
  }
  if (o.model !== undefined) {
    const glob = compileGlob(o.model);
    checks.push((l) => typeof l.model === 'string' && glob.test(l.model));
  }
  if (o.path !== undefined) {
    const glob = compileGlob(o.path.includes('*') || o.path.includes('?') ? o.path : `${o.path}*`);
    checks.push((l) => typeof l.path === 'string' && glob.test(l.path));
  }
  if (o.since !== undefined) {
    const from = parseTime(o.since, '--since', now);
    checks.push((l) => lineTime(l) >= from);
  }
  if (o.until !== undefined) {
    const to = parseTime(o.until, '--until', now);
    checks.push((l) => lineTime(l) < to);
  }
  if (o.level !== undefined) {
    const least = LEVELS.indexOf(o.level);
    if (least < 0) throw new CliError(`--level: expected one of ${LEVELS.join(', ')}`);
    checks.push((l) => LEVELS.indexOf(String(l.level)) >= least);
  }
  return (l) => checks.every((c) => c(l));
}

const lineTime = (l: LogLine) => (typeof l.time === 'string' ? Date.parse(l.time) : Number.NaN);

/**
 * Oldest first: `app.log.3`, `app.log.2.gz`, `app.log.1`, `app.log` (rotation numbers count up
 * with age), so a shell glob such as `app.log*` reads in time order. Other names keep their order.
 */
export function inTimeOrder(files: string[]): string[] {
  const rank = (f: string) => {
    const m = /\.(\d+)(\.gz)?$/.exec(f);
    return m ? Number(m[1]) : 0;
  };
  const base = (f: string) => f.replace(/\.\d+(\.gz)?$/, '');
  return files
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (base(a.f) === base(b.f) ? rank(b.f) - rank(a.f) : a.i - b.i))
    .map((x) => x.f);
}

/** A file's text, gunzipped when it starts with the gzip magic bytes (whatever its name); `-` is stdin. */
async function openText(file: string): Promise<Readable> {
  if (file === '-') return io().stdin;
  let gz = false;
  try {
    const fh = await open(file, 'r');
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      gz = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const raw = createReadStream(file);
  return gz ? raw.pipe(createGunzip()) : raw;
}

/** Every parsed line of `files` in order; lines that are not JSON objects are counted, not returned. */
export async function* readLogLines(files: string[], skipped: { count: number }): AsyncGenerator<LogLine> {
  for (const file of files) {
    const input = await openText(file);
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const text of lines) {
        if (text.trim() === '') continue;
        let line: unknown;
        try {
          line = JSON.parse(text);
        } catch {
          skipped.count++;
          continue;
        }
        if (line && typeof line === 'object' && !Array.isArray(line)) yield line as LogLine;
        else skipped.count++;
      }
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
    }
  }
}

/** Table columns and their widths; the last takes what it needs. Rows stream, so widths are fixed. */
const COLUMNS: [name: string, width: number, right: boolean][] = [
  ['time', 24, false],
  ['status', 6, false],
  ['method', 6, false],
  ['path', 34, false],
  ['model', 18, false],
  ['tokens', 7, true],
  ['cost_usd', 12, true],
  ['ms', 7, true],
  ['token_id', 0, false],
];

const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
const clip = (s: string, width: number) => (width === 0 || s.length <= width ? s : `${s.slice(0, width - 1)}…`);

function formatRow(values: unknown[]): string {
  return `${COLUMNS.map(([, width, right], i) => {
    const s = clip(cell(values[i]), width);
    return right ? s.padStart(width) : s.padEnd(width);
  })
    .join('  ')
    .trimEnd()}\n`;
}

export const tableHeader = (): string => formatRow(COLUMNS.map(([name]) => name));

/**
 * A request line (`proxy request`, or `proxy refused` for one the proxy answered itself) as a
 * table row; an application event shows its level and message instead.
 */
export function tableRow(l: LogLine): string {
  const isRequest = typeof l.status === 'number' && typeof l.method === 'string';
  // Lines written before money was counted in nano-dollars carry cost_micro_usd.
  const nano =
    typeof l.cost_nano_usd === 'number'
      ? l.cost_nano_usd
      : typeof l.cost_micro_usd === 'number'
        ? l.cost_micro_usd * 1000
        : null;
  return formatRow([
    l.time,
    isRequest ? l.status : l.level,
    isRequest ? l.method : null,
    isRequest ? l.path : l.msg,
    l.model,
    l.total_tokens,
    nano === null ? null : (nano / 1e9).toFixed(9),
    l.duration_ms,
    l.token_id,
  ]);
}

import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The whole test run is checked for leaked secrets: every secret a test creates (upstream keys,
 * proxy tokens, management and encryption keys) is registered here, every server's log and every
 * spawned process's stderr is kept, and at the end of the run the summary reporter looks for each
 * secret in all of it (scanLeaks). Files live in LLMP_TEST_RUN_DIR, one pair per worker process.
 * CLI stdout is not kept: printing a token once to its creator is the point of `token create`.
 */
const runDir = () => process.env.LLMP_TEST_RUN_DIR;

/** Secrets shorter than this are too likely to occur by chance (and none of ours are). */
const MIN_SECRET = 16;

export function registerSecret(value: unknown): void {
  const dir = runDir();
  if (!dir || typeof value !== 'string' || value.length < MIN_SECRET || /\s/.test(value)) return;
  appendFileSync(path.join(dir, `secrets-${process.pid}.txt`), `${value}\n`);
}

/** Secrets in a management API exchange: keys sent, tokens returned (one, or a batch). */
export function registerExchangeSecrets(request: unknown, response: unknown): void {
  if (request && typeof request === 'object') registerSecret((request as { api_key?: unknown }).api_key);
  if (!response || typeof response !== 'object') return;
  registerSecret((response as { token?: unknown }).token);
  const data = (response as { data?: unknown }).data;
  if (Array.isArray(data)) for (const item of data) registerSecret((item as { token?: unknown } | null)?.token);
}

/** Output a test produced (a server's log, a process's stderr), labelled with where it came from. */
export function keepOutput(label: string, text: string): void {
  const dir = runDir();
  if (!dir || text === '') return;
  appendFileSync(path.join(dir, `output-${process.pid}.log`), `\n=== ${label}\n${text}`);
}

export interface Leak {
  secret: string;
  where: string;
}

/**
 * Every registered secret found in the kept output (and in `extra`, the run's console output).
 * Output is cut into runs of secret-like characters; a run is looked up whole and, when longer,
 * by each 16-character window, so the scan is linear in the output, not in output × secrets.
 */
export function scanLeaks(dir: string, extra: string[] = []): Leak[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir);
  const secrets = new Set<string>();
  for (const f of files.filter((f) => f.startsWith('secrets-'))) {
    for (const s of readFileSync(path.join(dir, f), 'utf8').split('\n')) if (s.length >= MIN_SECRET) secrets.add(s);
  }
  if (secrets.size === 0) return [];
  const byPrefix = new Map<string, string[]>();
  for (const s of secrets) {
    const k = s.slice(0, MIN_SECRET);
    const list = byPrefix.get(k);
    if (list) list.push(s);
    else byPrefix.set(k, [s]);
  }
  const leaks = new Map<string, string>();
  const scan = (text: string, source: string) => {
    let label = source;
    for (const line of text.split('\n')) {
      if (line.startsWith('=== ')) {
        label = line.slice(4);
        continue;
      }
      for (const m of line.matchAll(/[A-Za-z0-9_\-+/=.~]{16,}/g)) {
        const run = m[0];
        for (let i = 0; i + MIN_SECRET <= run.length; i++) {
          const candidates = byPrefix.get(run.slice(i, i + MIN_SECRET));
          if (!candidates) continue;
          for (const s of candidates) if (run.startsWith(s, i) && !leaks.has(s)) leaks.set(s, label);
        }
      }
    }
  };
  for (const f of files.filter((f) => f.startsWith('output-'))) scan(readFileSync(path.join(dir, f), 'utf8'), f);
  for (const text of extra) scan(text, 'console output');
  return [...leaks].map(([secret, where]) => ({ secret, where }));
}

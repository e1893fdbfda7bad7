#!/usr/bin/env node
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { UpstreamKey } from '../src/projects/upstream-key.js';
import type { chooseKey as ChooseKey } from '../src/proxy/key-choice.js';
import type { KeyLoad as KeyLoadClass } from '../src/proxy/key-load.js';
import { log, ROOT } from './harness-stack.js';

/**
 * `npm run bench:key-choice`: the CPU of choosing a project's upstream key, per choice, in this
 * process, from the built code (dist/): one key (most projects), ten keys chosen at random by
 * weight (the choice before balancing), and ten keys by weighted power of two choices with their
 * load as a busy pool has it (requests in flight, latency estimates, one key out of rate-limit
 * headroom), each choice followed by the in-flight bookkeeping of its attempt. The cases
 * alternate in rounds, so the ratios of one run compare like with like.
 *
 *   node dist-bench/benchmarks/key-choice-cost.js [--choices 2000000] [--rounds 5]
 */
const dist = (file: string) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { choices: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '5' } },
  });
  const n = Number(values.choices);
  const rounds = Number(values.rounds);
  if (!Number.isInteger(n) || n < 10_000) throw new Error(`--choices: a whole number >= 10000: ${values.choices}`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: a whole number >= 1: ${values.rounds}`);
  const { chooseKey } = (await dist('proxy/key-choice.js')) as { chooseKey: typeof ChooseKey };
  const { KeyLoad } = (await dist('proxy/key-load.js')) as { KeyLoad: typeof KeyLoadClass };

  const keys = Array.from({ length: 10 }, (_, i) => key(i));
  const one = keys.slice(0, 1);
  const busy = (spent: boolean) => {
    const load = new KeyLoad({ decayMs: 10_000, minRequests: 1, minTokens: 1 }, Date.now);
    // A busy pool: every key answered, some hold requests; one is out of headroom for an hour, or none.
    for (const [i, k] of keys.entries()) {
      for (let j = 0; j < i % 4; j++) load.started(k.id);
      load.started(k.id);
      load.observed(k.id, 200 + 37 * i, spent && i === 3 ? SPENT : QUIET);
      load.ended(k.id);
    }
    return load;
  };
  const load = busy(false);
  const spentLoad = busy(true);
  const usable = (_k: UpstreamKey) => true;

  const cases: Record<string, () => UpstreamKey | undefined> = {
    'one key': () => chooseKey(one, Math.random, usable, load),
    'ten keys, weighted random': () => chooseKey(keys, Math.random, usable),
    'ten keys, P2C': () => chooseKey(keys, Math.random, usable, load),
    'ten keys, P2C + in-flight bookkeeping': () => {
      const k = chooseKey(keys, Math.random, usable, load) as UpstreamKey;
      load.started(k.id);
      load.ended(k.id);
      return k;
    },
    'ten keys, P2C, one out of headroom': () => chooseKey(keys, Math.random, usable, spentLoad),
  };
  const ns: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
  let sink = 0;
  for (let r = 0; r < rounds + 1; r++) {
    for (const [name, run] of Object.entries(cases)) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) sink += run()?.weight ?? 0;
      const per = ((performance.now() - t0) * 1e6) / n;
      // The first round warms the JIT up and is not counted.
      if (r > 0) ns[name]?.push(per);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const base = median(ns['one key'] as number[]);
  const rows = ['| case | ns per choice (median of rounds) | × one key |', '|---|---:|---:|'];
  for (const [name, xs] of Object.entries(ns)) {
    rows.push(`| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / base).toFixed(1)} |`);
  }
  log(`${rounds} rounds of ${n} choices per case (checksum ${sink})`);
  process.stdout.write(`${rows.join('\n')}\n`);
}

const QUIET = { 'x-ratelimit-remaining-requests': '9999', 'x-ratelimit-reset-requests': '6ms' };
const SPENT = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1h0m0s' };

function key(i: number): UpstreamKey {
  return {
    id: `01a23213-4dad-7375-ab04-bf2136449a${String(i).padStart(2, '0')}`,
    name: `key-${i}`,
    origin: 'https://api.openai.com',
    prefix: '',
    authStyle: 'bearer',
    weight: 1 + (i % 3),
    secret: 'sk-bench',
    http2: false,
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

#!/usr/bin/env node
/**
 * `npm run bench:floor`: how far llm-proxy is from the floor of its own platform. Calls the mock
 * upstream directly, through the bare Node proxy (Node's HTTP server + undici and nothing else, see
 * floor-proxy.ts), through llm-proxy (full pipeline) and through nginx, alternating in rounds, for
 * non-streamed chat at c=32 and c=1 and streamed chat at c=32, with each Node server's CPU time per
 * request. `--before <cli>` adds llm-proxy from another build (e.g. a worktree of an older commit)
 * to the same rounds, so a change's cost is read in one run. The load comes from wrk when it is on
 * PATH (DESIGN.md, "Measuring speed"), else from `llm-proxy bench`. Writes bench/results/floor.{json,md}.
 *
 *   node dist-bench/benchmarks/floor.js [--rounds 4] [--duration 3s] [--generator auto|wrk|node]
 *                                       [--before ../old/dist/cli/main.js] [--out dir]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/bench/units.js';
import { CELLS } from './floor-cells.js';
import { renderFloor } from './floor-report.js';
import { measureCells } from './floor-rounds.js';
import { startTargets, warmUpNodeTargets } from './floor-targets.js';
import { type Child, log, ROOT, writeReport } from './harness-stack.js';
import { type LoadGenerator, nodeGenerator } from './load-generator.js';
import { findWrk, wrkGenerator } from './wrk.js';

interface Settings {
  rounds: number;
  /** Per target per round; whole seconds, which is what wrk takes. */
  seconds: number;
  generator: 'auto' | 'wrk' | 'node';
  before: string | null;
  out: string;
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      // 3 cells × 4 targets × 4 rounds × 3 s, plus warm-ups: about 3 minutes (4 with --before).
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '3s' },
      generator: { type: 'string', default: 'auto' },
      before: { type: 'string' },
      out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    },
  });
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: not a positive integer: ${values.rounds}`);
  const seconds = parseDuration(String(values.duration)) / 1000;
  if (!Number.isInteger(seconds) || seconds < 1)
    throw new Error(`--duration: whole seconds, e.g. 3s: ${values.duration}`);
  const generator = String(values.generator);
  if (generator !== 'auto' && generator !== 'wrk' && generator !== 'node') {
    throw new Error(`--generator: auto, wrk or node: ${generator}`);
  }
  return { rounds, seconds, generator, before: values.before ?? null, out: path.resolve(String(values.out)) };
}

function loadGenerator(choice: Settings['generator'], dir: string): LoadGenerator {
  if (choice === 'node') return nodeGenerator;
  const wrk = findWrk();
  if (wrk) return wrkGenerator(wrk, dir);
  if (choice === 'wrk') throw new Error('--generator wrk: wrk is not on PATH (apt-get install wrk)');
  log('wrk is not on PATH: the load comes from llm-proxy bench (Node.js), which compresses the ratios');
  return nodeGenerator;
}

async function main(): Promise<void> {
  const s = settings();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-proxy-floor-'));
  const children: Child[] = [];
  try {
    const generator = loadGenerator(s.generator, dir);
    log(`load generator: ${generator.name}`);
    const targets = await startTargets(dir, s.before, children);
    await warmUpNodeTargets(targets);
    const cells = await measureCells(CELLS, targets, generator, s.rounds, s.seconds);
    const run = { generator: generator.name, rounds: s.rounds, seconds: s.seconds, before: s.before, targets, cells };
    writeReport(s.out, 'floor', renderFloor(run), {
      ...run,
      // Tokens stay out of the report.
      targets: targets.map(({ key, title, url }) => ({ key, title, url })),
    });
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`floor benchmark failed: ${(err as Error).message}`);
    process.exit(1);
  });
}

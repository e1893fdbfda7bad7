#!/usr/bin/env node
/**
 * `npm run bench:floor`: how far llm-proxy is from the floor of its own platform. Calls the mock
 * upstream directly, through the bare Node proxy (Node's HTTP server + undici and nothing else, see
 * floor-proxy.ts), through llm-proxy (full pipeline) and through nginx, alternating in rounds, for
 * non-streamed chat at c=32 and c=1 and streamed chat at c=32, with each Node server's CPU time per
 * request. `--before <cli>` adds llm-proxy from another build (e.g. a worktree of an older commit)
 * to the same rounds, so a change's cost is read in one run; `--before-tracing` starts that second
 * llm-proxy (this build unless `--before` names another) with OpenTelemetry on, exporting spans and
 * the GenAI metrics to an OTLP sink beside it, so tracing's cost is read the same way. The load comes from wrk when it is on
 * PATH (DESIGN.md, "Measuring speed"), else from `llm-proxy bench`. Writes bench/results/floor.{json,md}.
 *
 *   node dist-bench/benchmarks/floor.js [--rounds 4] [--duration 3s] [--generator auto|wrk|node]
 *                                       [--before ../old/dist/cli/main.js] [--before-tracing] [--out dir]
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
import { type Child, CLI, log, ROOT, writeReport } from './harness-stack.js';
import { type LoadGenerator, nodeGenerator } from './load-generator.js';
import { startOtlpSink } from './otlp-sink.js';
import { findWrk, wrkGenerator } from './wrk.js';

interface Settings {
  rounds: number;
  /** Per target per round; whole seconds, which is what wrk takes. */
  seconds: number;
  generator: 'auto' | 'wrk' | 'node';
  before: string | null;
  /** `before` runs with tracing and OTLP metrics on, exporting to a local sink. */
  beforeTracing: boolean;
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
      'before-tracing': { type: 'boolean', default: false },
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
  const beforeTracing = values['before-tracing'] === true;
  return {
    rounds,
    seconds,
    generator,
    before: values.before ?? (beforeTracing ? CLI : null),
    beforeTracing,
    out: path.resolve(String(values.out)),
  };
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
  let sink: Awaited<ReturnType<typeof startOtlpSink>> | undefined;
  try {
    const generator = loadGenerator(s.generator, dir);
    log(`load generator: ${generator.name}`);
    sink = s.beforeTracing ? await startOtlpSink() : undefined;
    // Spans in batches every 5 s and metrics every 60 s (the defaults), protobuf, to the sink.
    const beforeEnv: Record<string, string> = sink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {};
    const targets = await startTargets(dir, s.before, children, beforeEnv, s.beforeTracing ? 'tracing on' : 'before');
    await warmUpNodeTargets(targets);
    const cells = await measureCells(CELLS, targets, generator, s.rounds, s.seconds);
    if (sink) log(`OTLP sink: ${sink.exports()} export requests received`);
    const run = {
      generator: generator.name,
      rounds: s.rounds,
      seconds: s.seconds,
      before: s.before,
      beforeTracing: s.beforeTracing,
      targets,
      cells,
    };
    writeReport(s.out, 'floor', renderFloor(run), {
      ...run,
      // Tokens stay out of the report.
      targets: targets.map(({ key, title, url }) => ({ key, title, url })),
    });
  } finally {
    for (const c of children.reverse()) await c.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err) => {
    log(`floor benchmark failed: ${(err as Error).message}`);
    process.exit(1);
  });
}

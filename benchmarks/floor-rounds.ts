import { type Cell, cellTitle } from './floor-cells.js';
import type { Target, TargetKey } from './floor-targets.js';
import { cpuMs, log } from './harness-stack.js';
import type { LoadGenerator, Measurement } from './load-generator.js';

/** One target's run in one round. */
export interface RunRecord {
  requests: number;
  rps: number;
  p50Ms: number;
  /**
   * The server's user + system CPU time (all threads, /proc/<pid>/stat) over the run, per completed
   * request, µs; null for the mock and nginx.
   */
  cpuUsPerRequest: number | null;
}

export interface CellResult {
  cell: Cell;
  /** `rounds[i][key]`: target `key` in round i + 1. */
  rounds: Array<Partial<Record<TargetKey, RunRecord>>>;
}

/** Unmeasured load per target at the start of a cell: new client connections, the pools filled. */
const WARMUP_S = 1;

/**
 * Runs every cell: a warm-up per target, then `rounds` rounds in which every target runs once, in
 * reverse order on odd rounds, so that drift (heat, a growing heap, other load) falls on both sides
 * of a pair and a ratio of two targets in the same round cancels most of it.
 */
export async function measureCells(
  cells: readonly Cell[],
  targets: Target[],
  generator: LoadGenerator,
  rounds: number,
  seconds: number,
): Promise<CellResult[]> {
  const results: CellResult[] = [];
  for (const cell of cells) {
    log(
      `${cellTitle(cell)}: ${WARMUP_S} s warm-up, then ${rounds} round${rounds === 1 ? '' : 's'} of ${seconds} s per target…`,
    );
    for (const t of targets) checked(t, cell, await generator.run(t, cell, WARMUP_S));
    const perRound: CellResult['rounds'] = [];
    for (let r = 0; r < rounds; r++) {
      const round: CellResult['rounds'][number] = {};
      for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
        round[t.key] = await measure(t, cell, generator, seconds);
      }
      perRound.push(round);
    }
    results.push({ cell, rounds: perRound });
  }
  return results;
}

async function measure(t: Target, cell: Cell, generator: LoadGenerator, seconds: number): Promise<RunRecord> {
  const before = t.pid === null ? null : cpuMs(t.pid);
  const m = checked(t, cell, await generator.run(t, cell, seconds));
  const after = t.pid === null ? null : cpuMs(t.pid);
  const cpu = before === null || after === null ? null : ((after - before) * 1000) / m.requests;
  return { requests: m.requests, rps: m.rps, p50Ms: m.p50Ms, cpuUsPerRequest: cpu };
}

/** A target that answered with errors measured something other than its proxy path: stop, loudly. */
function checked(t: Target, cell: Cell, m: Measurement): Measurement {
  if (m.errors > 0 || m.requests === 0) {
    throw new Error(
      `${t.title} (${t.url}) returned errors in "${cellTitle(cell)}": ${m.requests} completed, ${m.errors} failed (${m.errorDetail})`,
    );
  }
  return m;
}

import type { Cell } from './floor-cells.js';
import type { Target } from './floor-targets.js';
import { headerArgs, runBenchProcess } from './harness-stack.js';

/** What one run of a load generator against one target measured. */
export interface Measurement {
  /** Completed requests (a stream counts once, when it ends). */
  requests: number;
  rps: number;
  p50Ms: number;
  /** Failed requests: non-2xx answers and transport errors. */
  errors: number;
  /** The failures by kind, for the message when `errors` is not 0. */
  errorDetail: string;
}

export interface LoadGenerator {
  /** Named in the report: which tool made the load. */
  name: string;
  run(target: Target, cell: Cell, seconds: number): Promise<Measurement>;
}

/**
 * The fallback where wrk is not installed: `llm-proxy bench` in a process of its own. It takes a
 * large share of a core on a small machine, which compresses the differences between targets.
 */
export const nodeGenerator: LoadGenerator = {
  name: '`llm-proxy bench` (Node.js; wrk gives clearer ratios on a small machine)',
  async run(target, cell, seconds) {
    const { report } = await runBenchProcess([
      target.url,
      '-t',
      target.token,
      '-e',
      'chat',
      '--body',
      cell.body,
      ...headerArgs(cell.headers),
      '-c',
      String(cell.connections),
      '-d',
      `${seconds}s`,
    ]);
    const run = report.runs[0];
    if (!run) throw new Error(`llm-proxy bench reported no run for ${target.title}`);
    return {
      requests: run.requests.completed,
      rps: run.throughput.rps,
      p50Ms: run.latency_ms?.p50 ?? Number.NaN,
      errors: run.requests.errors,
      errorDetail: JSON.stringify({ status: run.status, errors: run.errors, messages: run.error_messages }),
    };
  },
};

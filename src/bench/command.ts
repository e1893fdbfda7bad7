import { writeFileSync } from 'node:fs';
import { type BenchControl, BenchSpecError, type ProgressSink, runBench } from './bench.js';
import { compareReports, loadReport, renderCompare } from './compare.js';
import { renderCsv, renderReport } from './format.js';
import { type BenchFlags, resolveSpec } from './options.js';
import { RequestSpecError } from './request-kind.js';
import type { BenchReport } from './result.js';

export interface OutputFlags {
  json?: string;
  csv?: string;
  quiet?: boolean;
}

/** Errors meant for the user (bad flags, unreadable files, nothing succeeded). */
export class BenchCommandError extends Error {}

export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** LLM_PROXY_URL, when set. */
  defaultUrl?: string | undefined;
}

const defaultIo = (): CommandIo => ({ stdout: process.stdout, stderr: process.stderr });

function write(dest: string, text: string, io: CommandIo): void {
  if (dest === '-') io.stdout.write(text);
  else writeFileSync(dest, text);
}

async function progressBar(io: CommandIo): Promise<{ sink: ProgressSink; stop(): void }> {
  const { SingleBar } = (await import('cli-progress')).default;
  const bar = new SingleBar({
    stream: io.stderr,
    format: '  {bar} {percentage}% | {phase} | {completed} done, {errors} errors, {rps} req/s',
    hideCursor: true,
    clearOnComplete: true,
    barsize: 24,
    fps: 10,
  });
  bar.start(1000, 0, { phase: 'starting', completed: 0, errors: 0, rps: '0' });
  return {
    sink: {
      update(fraction, phase, s) {
        bar.update(Math.round(fraction * 1000), {
          phase,
          completed: s.completed,
          errors: s.errors,
          rps: s.rps.toFixed(0),
        });
      },
    },
    stop: () => bar.stop(),
  };
}

/** `llm-proxy bench …`: runs the load, prints the table, writes --json/--csv. */
export async function benchCommand(flags: BenchFlags & OutputFlags, io: CommandIo = defaultIo()): Promise<BenchReport> {
  let spec: ReturnType<typeof resolveSpec>;
  try {
    spec = resolveSpec(flags, { defaultUrl: io.defaultUrl });
  } catch (err) {
    throw new BenchCommandError((err as Error).message);
  }
  // The table goes to stderr when stdout carries JSON or CSV.
  const tableOut = flags.json === '-' || flags.csv === '-' ? io.stderr : io.stdout;
  const control: BenchControl = {};
  const abort = new AbortController();
  control.signal = abort.signal;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.stderr.write('\nstopping: finishing requests in flight (Ctrl-C again to quit now)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = !flags.quiet && io.stderr.isTTY ? await progressBar(io) : undefined;
  if (bar) control.progress = bar.sink;
  let report: BenchReport;
  try {
    report = await runBench(spec, control);
  } catch (err) {
    if (err instanceof BenchSpecError || err instanceof RequestSpecError) throw new BenchCommandError(err.message);
    throw err;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
  if (!flags.quiet) tableOut.write(renderReport(report));
  if (flags.json) write(flags.json, `${JSON.stringify(report, null, 2)}\n`, io);
  if (flags.csv) write(flags.csv, renderCsv(report), io);
  const dead = report.runs.filter((r) => r.requests.ok === 0);
  if (dead.length > 0) {
    const why = dead.map((r) => {
      const first =
        Object.keys(r.error_messages)[0] ?? Object.keys(r.status).map((s) => `HTTP ${s}`)[0] ?? 'nothing completed';
      return `${r.label} (${r.target}): ${first}`;
    });
    throw new BenchCommandError(`no successful response from ${why.join('; ')}`);
  }
  return report;
}

/** `llm-proxy bench --compare A.json B.json`. */
export function compareCommand(files: string[], flags: OutputFlags, io: CommandIo = defaultIo()): void {
  if (files.length !== 2) throw new BenchCommandError('--compare takes exactly two JSON reports: A.json B.json');
  const [fa, fb] = files as [string, string];
  let rows: ReturnType<typeof compareReports>;
  try {
    rows = compareReports(loadReport(fa), loadReport(fb));
  } catch (err) {
    throw new BenchCommandError((err as Error).message);
  }
  const tableOut = flags.json === '-' ? io.stderr : io.stdout;
  if (!flags.quiet) tableOut.write(renderCompare(rows, fa, fb));
  if (flags.json) write(flags.json, `${JSON.stringify({ a: fa, b: fb, rows }, null, 2)}\n`, io);
}

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import SlowestFirstSequencer from './test/helpers/sequencer.js';

// One folder per run, removed at its end: the secret watch's files (test/helpers/secret-watch.ts)
// and, in tmp/, the temp folder of the whole run: TMPDIR points there for the workers and every
// process they start (test/helpers/cli.ts childEnv), so what the tests leave in the temp folder is
// theirs alone, and the summary reporter fails the run for it (test/helpers/summary-reporter.ts).
if (!process.env.LLMP_TEST_RUN_DIR) {
  const runDir = mkdtempSync(path.join(tmpdir(), 'llmp-run-'));
  process.env.LLMP_TEST_RUN_DIR = runDir;
  process.env.TMPDIR = path.join(runDir, 'tmp');
  mkdirSync(process.env.TMPDIR);
  // Node's compile cache, which npm and other tools switch on, goes into the temp folder unless
  // told otherwise. It is written as processes exit, some after the run's folder is removed, so it
  // lives with the dependencies (and makes the processes the tests start load faster next run).
  process.env.NODE_COMPILE_CACHE = path.resolve('node_modules/.cache/node-compile-cache');
  process.once('exit', () => rmSync(runDir, { recursive: true, force: true }));
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/**/*.test.ts'],
    globalSetup: ['./test/helpers/build-ui.ts'],
    setupFiles: ['./test/helpers/setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Limits that only a hung test reaches. A test waits for conditions (a record written, a
    // process exited), never for a time, so how long it takes is the machine's business: the
    // slowest takes about 20 s on a quiet 2-core machine and several times that under load.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Test files share their worker's loaded modules instead of loading the server's module graph
    // again for each file (most of the run's time went there). Files keep no state in modules
    // they share: each starts its own servers and databases and stops them.
    isolate: false,
    // Integration tests mostly wait on servers, databases, browsers and child processes: two
    // cores do best with a few more workers than cores.
    pool: 'forks',
    maxWorkers: 4,
    // The longest files start first, so that none of them is left running alone at the end.
    sequence: { sequencer: SlowestFirstSequencer },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      reporter: ['text-summary', 'html'],
    },
  },
});

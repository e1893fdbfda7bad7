import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';
import { scanLeaks } from './secret-watch.js';

/**
 * Ends every run with one machine-readable line: `N passed, N failed, N skipped`. Before it, the
 * whole run's output is searched for every secret the tests created, and the run's temp folder
 * (TMPDIR, see vitest.config.ts) for anything the tests left behind: each secret found and each
 * file or folder left counts as a failure.
 */
export default class SummaryReporter implements Reporter {
  private readonly console: string[] = [];

  onUserConsoleLog(log: UserConsoleLog): void {
    this.console.push(log.content);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but must still count as a failure.
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++;
    }
    const dir = process.env.LLMP_TEST_RUN_DIR;
    if (dir) {
      const leaks = scanLeaks(dir, this.console);
      for (const l of leaks) {
        process.stdout.write(`\nFAIL secret leaked: ${l.secret.slice(0, 6)}… appears in the output of ${l.where}\n`);
      }
      const tmp = path.join(dir, 'tmp');
      const left = existsSync(tmp) ? readdirSync(tmp) : [];
      for (const name of left) process.stdout.write(`\nFAIL left in the temp folder: ${name}\n`);
      if (leaks.length + left.length > 0) {
        failed += leaks.length + left.length;
        process.exitCode = 1;
      }
      // Empty for the next run of a watching vitest; vitest.config.ts removes the folder at exit.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

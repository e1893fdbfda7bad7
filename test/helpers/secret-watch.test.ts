import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanLeaks } from './secret-watch.js';

/** The end-of-run leak scan itself, on a run directory of its own (the real one must stay clean). */
describe('the leak scan', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a secret wherever it sits in the output, and only registered ones', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-scan-'));
    const token = 'sk-llmp-Zq3xW9vB2nM7kL4pR8tY1uI6oE5aS0dF';
    const key = 'sk-upstream-a-key-of-the-test-777';
    const quiet = 'mgmt-token-that-never-leaks-0123456';
    writeFileSync(path.join(dir, 'secrets-1.txt'), `${token}\n${key}\n${quiet}\nshort\n`);
    writeFileSync(
      path.join(dir, 'output-1.log'),
      `\n=== a.test.ts: server\n{"msg":"x","url":"/v1/${token}/more"}\n` +
        `\n=== b.test.ts: serve\nAuthorization: Bearer ${key}\nnothing else sk-llmp-Zq3xW9vB2nM7 here\n`,
    );
    const leaks = scanLeaks(dir, ['a console line without secrets']);
    expect(leaks).toEqual([
      { secret: token, where: 'a.test.ts: server' },
      { secret: key, where: 'b.test.ts: serve' },
    ]);
    expect(scanLeaks(dir, [`console: ${quiet}`]).map((l) => l.where)).toContain('console output');
  });

  it('finds nothing in clean output', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-scan-'));
    writeFileSync(path.join(dir, 'secrets-1.txt'), 'sk-llmp-Zq3xW9vB2nM7kL4pR8tY1uI6oE5aS0dF\n');
    writeFileSync(path.join(dir, 'output-1.log'), '{"token_id":"01a2d6c1-5b0e-7c1a-9d4e-2f3a4b5c6d7e"}\n');
    expect(scanLeaks(dir)).toEqual([]);
  });
});

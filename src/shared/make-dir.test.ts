import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDir } from './make-dir.js';

describe('makeDir', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'llmp-mkdir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates the missing levels with the mode, and leaves an existing directory alone', () => {
    const dir = path.join(root, 'a', 'b', 'c');
    makeDir(dir, 0o700);
    makeDir(dir, 0o700);
    for (const d of ['a', 'a/b', 'a/b/c']) expect(statSync(path.join(root, d)).mode & 0o777, d).toBe(0o700);
  });

  it('fails with ENOTDIR where a level is a file', () => {
    writeFileSync(path.join(root, 'file'), '');
    expect(() => makeDir(path.join(root, 'file', 'x'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDir(path.join(root, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  // Node's mkdirSync(dir, { recursive: true }) never returns here: /proc answers ENOENT with /proc there.
  it('fails, rather than loops, where the file system refuses a mkdir with ENOENT (/proc)', () => {
    expect(() => makeDir('/proc/llmp-no-such/data')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

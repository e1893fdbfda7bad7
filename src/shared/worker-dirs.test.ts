import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownDir, replayDirs } from './worker-dirs.js';

const base = path.join(mkdtempSync(path.join(tmpdir(), 'llmp-worker-dirs-')), 'journal');
afterAll(() => rmSync(path.dirname(base), { recursive: true, force: true }));

describe('per-worker folders (journal, spill)', () => {
  it('a single process uses the folder itself; a worker its slot', () => {
    expect(ownDir(base, undefined)).toBe(base);
    expect(ownDir(base, { slot: 3, count: 4 })).toBe(path.join(base, 'worker-3'));
  });

  it('what each process replays: no live sibling is touched, and nothing is left behind when WORKERS changes', () => {
    for (const slot of ['worker-0', 'worker-1', 'worker-2', 'worker-3'])
      mkdirSync(path.join(base, slot), { recursive: true });
    // WORKERS=2 after a run with 4: worker 0 takes the single-process layout and slots 2 and 3.
    expect(replayDirs(base, { slot: 0, count: 2 })).toEqual([
      path.join(base, 'worker-0'),
      base,
      path.join(base, 'worker-2'),
      path.join(base, 'worker-3'),
    ]);
    // Worker 1 (or its replacement) only its own: worker 0 is alive.
    expect(replayDirs(base, { slot: 1, count: 2 })).toEqual([path.join(base, 'worker-1')]);
    // Back to one process: it replays what every worker left.
    expect(replayDirs(base, undefined)).toEqual([
      base,
      path.join(base, 'worker-0'),
      path.join(base, 'worker-1'),
      path.join(base, 'worker-2'),
      path.join(base, 'worker-3'),
    ]);
  });
});

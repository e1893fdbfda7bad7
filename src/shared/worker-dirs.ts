import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** A worker's place among WORKERS: its slot (0 … count-1) is kept by the process that replaces it. */
export interface WorkerSlot {
  slot: number;
  count: number;
}

const PREFIX = 'worker-';

/**
 * The folder of a per-process file set (the usage journal, a sink's spill) under `base`: `base`
 * itself for a single process, `base/worker-<slot>` for a worker, so no two live processes share one
 * and a replacement takes over what its predecessor left.
 */
export function ownDir(base: string, worker: WorkerSlot | undefined): string {
  return worker ? path.join(base, `${PREFIX}${worker.slot}`) : base;
}

/**
 * The journal folders a process replays at start: its own, and, for the only process or worker 0,
 * those no running process owns: the single-process layout's segments directly in `base`, and the
 * folders of worker slots at or above the current count (left by a larger WORKERS). Then changing
 * WORKERS, in either direction, loses nothing.
 */
export function replayDirs(base: string, worker: WorkerSlot | undefined): string[] {
  const own = ownDir(base, worker);
  if (worker && worker.slot !== 0) return [own];
  const orphans = existsSync(base)
    ? readdirSync(base, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(PREFIX))
        .filter((e) => {
          const slot = Number(e.name.slice(PREFIX.length));
          return !Number.isInteger(slot) || worker === undefined || slot >= worker.count;
        })
        .map((e) => path.join(base, e.name))
        .sort()
    : [];
  return [...new Set([own, base, ...orphans])];
}

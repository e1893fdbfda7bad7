/**
 * Loaded into the proxy by `bench:soak` (`node --import <this file> dist/cli/main.js serve`): on
 * SIGUSR2 it writes one line, `memory-probe {json}`, to stderr saying where the process's resident
 * memory is: the main isolate's heap by space (young generation = new space, plus new large
 * objects), each worker thread's heap (the usage writer), buffers outside the heaps, and the
 * kernel's file-backed / anonymous split from /proc/self/smaps_rollup; and the main thread's
 * garbage collections since start (count and ms by kind), the cost a young-generation size trades
 * for memory. Not part of the product.
 */
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';

const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gc: Record<string, { count: number; ms: number }> = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const detail = (e as unknown as { detail?: { kind?: number } }).detail;
    const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
    gc[kind] ??= { count: 0, ms: 0 };
    const k = gc[kind];
    k.count++;
    k.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const workers = new Set<Worker>();
process.on('worker', (w: Worker) => {
  workers.add(w);
  w.once('exit', () => workers.delete(w));
});

/** The kB fields of smaps_rollup, in MiB. */
function rollup(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of readFileSync('/proc/self/smaps_rollup', 'utf8').matchAll(/^(\w+):\s+(\d+) kB/gm))
      out[m[1] as string] = Math.round((Number(m[2]) / 1024) * 10) / 10;
  } catch {
    // not Linux: the heap figures alone
  }
  return out;
}

/**
 * Resident MiB in anonymous mappings of exactly 256 KiB: V8 allocates its heap pages (every
 * isolate's) one such mapping each, so this counts pages a space holds and pages freed but not
 * yet returned to the kernel alike.
 */
function v8Pages(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return undefined;
  }
  let kib = 0;
  let page = false;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m)
      page = !m[3]?.trim() && Number.parseInt(m[2] as string, 16) - Number.parseInt(m[1] as string, 16) === 256 * 1024;
    else if (page && line.startsWith('Rss:')) kib += Number(/\d+/.exec(line)?.[0] ?? 0);
  }
  return Math.round((kib / 1024) * 10) / 10;
}

async function probe(): Promise<void> {
  const mu = process.memoryUsage();
  const spaces: Record<string, { committed: number; used: number }> = {};
  for (const s of v8.getHeapSpaceStatistics())
    spaces[s.space_name] = { committed: mib(s.physical_space_size), used: mib(s.space_used_size) };
  const heap = v8.getHeapStatistics();
  const threads = await Promise.all(
    [...workers].map(async (w) => {
      try {
        const h = await w.getHeapStatistics();
        return { committed: mib(h.total_physical_size), used: mib(h.used_heap_size) };
      } catch {
        return null; // exited meanwhile
      }
    }),
  );
  const r = rollup();
  const line = {
    rss: mib(mu.rss),
    main_heap: { committed: mib(heap.total_physical_size), used: mib(heap.used_heap_size), spaces },
    workers: threads.filter((t) => t !== null),
    external: mib(mu.external),
    array_buffers: mib(mu.arrayBuffers),
    gc: Object.fromEntries(Object.entries(gc).map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms) }])),
    smaps: {
      rss: r.Rss,
      anonymous: r.Anonymous,
      v8_pages: v8Pages(),
      file: r.Rss !== undefined && r.Anonymous !== undefined ? Math.round((r.Rss - r.Anonymous) * 10) / 10 : undefined,
    },
  };
  process.stderr.write(`memory-probe ${JSON.stringify(line)}\n`);
}

process.on('SIGUSR2', () => void probe());

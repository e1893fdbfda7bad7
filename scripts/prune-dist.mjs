/**
 * Deletes compiled files in dist/ whose TypeScript source is gone (moved or deleted): tsc never
 * removes an output, and everything in dist/ goes into the npm package. A compiled file is known by
 * its source map, whose `sources` names the .ts it came from. `npm run build` and `prepare` run it.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Removes stale outputs under `dist`; returns their paths relative to the repository root. */
export function pruneDist(dist = path.join(root, 'dist')) {
  if (!existsSync(dist)) return [];
  const removed = [];
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js.map')) continue;
    const map = path.join(entry.parentPath, entry.name);
    let sources;
    try {
      const parsed = JSON.parse(readFileSync(map, 'utf8'));
      sources = (parsed.sources ?? []).map((s) => path.resolve(entry.parentPath, parsed.sourceRoot ?? '', s));
    } catch {
      continue;
    }
    if (sources.length === 0 || sources.some((s) => existsSync(s))) continue;
    for (const file of [map, map.slice(0, -'.map'.length)]) {
      rmSync(file, { force: true });
      removed.push(path.relative(root, file));
    }
  }
  return removed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const removed = pruneDist();
  if (removed.length > 0) process.stderr.write(`prune-dist: removed ${removed.length} stale files from dist/\n`);
}

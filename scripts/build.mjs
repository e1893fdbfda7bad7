/**
 * Builds what is stale, and only that: the server (src/ → dist/ with tsc), the admin UI (web/ →
 * dist/web/ with Vite) and, with `--bench`, the benchmark harness (benchmarks/ → dist-bench/). A
 * part whose inputs hash the same as at its last build is skipped, so `npm start` on unchanged
 * sources starts at once. `npm run build`, `npm install` in a clone (`prepare`), `npm start`
 * (`prestart`) and `npm test` (`pretest`) run it; `--force` rebuilds everything.
 *
 * An install without dev dependencies (`npm ci --omit=dev`) has no TypeScript to build with: it
 * skips the build instead of failing, and needs a dist/ built beforehand (the npm package ships one).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildWeb } from './build-web.mjs';
import { pruneDist } from './prune-dist.mjs';
import { root, sourceHash, upToDate, writeStamp } from './source-hash.mjs';

const compiled = [
  {
    name: 'server',
    project: 'tsconfig.build.json',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'],
    stamp: 'dist/.source-hash',
    output: 'dist/cli/main.js',
  },
  {
    name: 'benchmarks',
    project: 'benchmarks',
    inputs: ['benchmarks', 'src', 'tsconfig.json', 'package-lock.json'],
    stamp: 'dist-bench/.source-hash',
    output: 'dist-bench/benchmarks/harness.js',
  },
];

function tscPath() {
  try {
    return createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

/** Builds the stale parts; returns the names of those it built. */
export async function build({ force = false, bench = false } = {}) {
  const tsc = tscPath();
  if (!tsc) {
    process.stderr.write('build: TypeScript is not installed (dev dependencies omitted): dist/ not built\n');
    return [];
  }
  const built = [];
  for (const part of compiled) {
    if (part.name === 'benchmarks' && !bench) continue;
    const hash = sourceHash(part.inputs);
    const stamp = path.join(root, part.stamp);
    if (!force && upToDate(stamp, hash, path.join(root, part.output))) continue;
    // tsc never removes an output whose source is gone, and everything in dist/ is packed.
    if (part.name === 'server') pruneDist();
    process.stderr.write(`build: compiling the ${part.name} (${part.project})\n`);
    execFileSync(process.execPath, [tsc, '-p', part.project], { cwd: root, stdio: 'inherit' });
    writeStamp(stamp, hash);
    built.push(part.name);
  }
  if (await buildWeb({ force })) built.push('admin UI');
  return built;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await build({ force: process.argv.includes('--force'), bench: process.argv.includes('--bench') });
}

/**
 * Builds the admin UI (web/ → dist/web/) with Vite, as part of `npm run build`, `prepare` and
 * `prestart`, so a clone's `npm install && npm start` serves it without a separate step. Skips the
 * build when the sources are unchanged since the last one (see source-hash.mjs). Without Vite (dev
 * dependencies omitted) it leaves dist/web/ as it is: such an install needs a dist/ built beforehand.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, sourceHash, upToDate, writeStamp } from './source-hash.mjs';

const out = path.join(root, 'dist', 'web');
const stamp = path.join(out, '.source-hash');
/** Everything the UI build reads: its sources and config, and the locked dependency versions. */
const inputs = ['web', 'package-lock.json'];

export async function buildWeb({ force = false } = {}) {
  const hash = sourceHash(inputs);
  if (!force && upToDate(stamp, hash, path.join(out, 'index.html'))) return false;
  let vite;
  try {
    vite = await import(pathToFileURL(createRequire(import.meta.url).resolve('vite')).href);
  } catch {
    process.stderr.write('build-web: Vite is not installed (dev dependencies omitted): dist/web/ not built\n');
    return false;
  }
  process.stderr.write('build: building the admin UI (web/)\n');
  await vite.build({ configFile: path.join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
  writeStamp(stamp, hash);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildWeb({ force: process.argv.includes('--force') });
}

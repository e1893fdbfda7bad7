/**
 * Builds the admin UI (web/ → dist/web/) with Vite, as part of `npm run build` and `prepare`, so a
 * clone's `npm install && npm start` serves it without a separate step. Skips the build when the
 * sources are unchanged since the last one (a hash of web/ and the lock file, kept in
 * dist/web/.source-hash), so `npm start` stays quick. Without Vite (dev dependencies omitted) it
 * leaves dist/web/ as it is: such an install needs a dist/ built beforehand.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const web = path.join(root, 'web');
const out = path.join(root, 'dist', 'web');
const stamp = path.join(out, '.source-hash');

/** A hash of everything the build reads: the UI's sources and config, and the locked dependency versions. */
function sourceHash() {
  const h = createHash('sha256');
  const files = readdirSync(web, { recursive: true, encoding: 'utf8' })
    .filter((f) => !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(web, f))
    .filter((f) => !f.endsWith('.test.ts'))
    .sort();
  for (const f of [...files, path.join(root, 'package-lock.json')]) {
    let data;
    try {
      data = readFileSync(f);
    } catch {
      continue; // a folder
    }
    h.update(path.relative(root, f)).update('\0').update(data).update('\0');
  }
  return h.digest('hex');
}

export async function buildWeb({ force = false } = {}) {
  let vite;
  try {
    vite = await import(pathToFileURL(createRequire(import.meta.url).resolve('vite')).href);
  } catch {
    process.stderr.write('build-web: Vite is not installed (dev dependencies omitted): dist/web/ not built\n');
    return false;
  }
  const hash = sourceHash();
  if (!force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return false;
  await vite.build({ configFile: path.join(web, 'vite.config.ts'), logLevel: 'warn' });
  writeFileSync(stamp, hash);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildWeb({ force: process.argv.includes('--force') });
}

/**
 * A hash of everything a build reads, so a build can be skipped when its inputs are unchanged since
 * the last one (kept in a `.source-hash` file beside its output). Contents, not times: a checkout
 * or a copy that touches every file without changing one builds nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `inputs` are paths relative to `base` (the repository root): files, or folders read recursively
 * (`node_modules` and `*.test.ts` left out). A missing input counts as empty.
 */
export function sourceHash(inputs, base = root) {
  const files = [];
  for (const input of inputs) {
    const abs = path.join(base, input);
    if (!existsSync(abs)) continue;
    if (!statSync(abs).isDirectory()) {
      files.push(abs);
      continue;
    }
    for (const f of readdirSync(abs, { recursive: true, encoding: 'utf8' })) {
      if (f.split(path.sep).includes('node_modules') || f.endsWith('.test.ts')) continue;
      const file = path.join(abs, f);
      if (statSync(file).isFile()) files.push(file);
    }
  }
  const h = createHash('sha256');
  for (const f of files.sort()) h.update(path.relative(base, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

/** Whether `stampFile` holds `hash` (and `output`, the build's main product, exists). */
export function upToDate(stampFile, hash, output = stampFile) {
  return existsSync(output) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash;
}

export function writeStamp(stampFile, hash) {
  writeFileSync(stampFile, hash);
}

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Where `npm run build` puts the UI: dist/web/ of the package, from src/admin/ and dist/admin/ alike. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export interface UiFile {
  body: Buffer;
  /** The body gzipped, when that is smaller by a useful margin. */
  gzip: Buffer | undefined;
  type: string;
  /** Hashed names (everything under assets/) never change content: cached for a year. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The built UI, read into memory once at start (a few hundred KB): serving it then touches no disk,
 * and each file is gzipped once rather than per request. Keys are paths below /admin/ ("index.html",
 * "assets/index-3f2a1c.js"). Undefined when the UI was not built (an install without dev dependencies).
 */
export function loadUiFiles(dir: string): Map<string, UiFile> | undefined {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined;
  const files = new Map<string, UiFile>();
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const name = rel.split(path.sep).join('/');
    if (name.startsWith('.')) continue; // the build's own bookkeeping (.source-hash)
    const ext = path.extname(name);
    const type = TYPES[ext];
    if (!type) continue;
    const body = readFileSync(path.join(dir, rel));
    const compressible = !['.png', '.woff2'].includes(ext) && body.length > 512;
    const gz = compressible ? gzipSync(body, { level: 9 }) : undefined;
    files.set(name, {
      body,
      gzip: gz && gz.length < body.length * 0.9 ? gz : undefined,
      type,
      immutable: name.startsWith('assets/'),
    });
  }
  return files;
}

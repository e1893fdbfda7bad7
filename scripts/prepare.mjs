/**
 * `npm install` in a clone runs this (`prepare`): it builds dist/ (the server, and the admin UI into
 * dist/web/) so `npx llm-proxy …` works before the first `npm start`. An install without dev dependencies (`npm ci --omit=dev`) has no
 * TypeScript to build with; it skips the build instead of failing, and needs a dist/ built beforehand.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildWeb } from './build-web.mjs';
import { pruneDist } from './prune-dist.mjs';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('prepare: TypeScript is not installed (dev dependencies omitted): dist/ not built\n');
  process.exit(0);
}
// `npm publish` runs prepare too: what it packs must hold no output of a source that is gone.
pruneDist();
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
await buildWeb();

import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ES module scripts without type declarations.
import { build } from '../scripts/build.mjs';
// @ts-expect-error: as above.
import { sourceHash, upToDate, writeStamp } from '../scripts/source-hash.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the build (npm start, npm test and npm install run it)', () => {
  it('builds nothing when no source changed since the last build, so npm start starts at once', async () => {
    // `npm test` built everything first (pretest); the sources have not changed since.
    expect(await build({ bench: true })).toEqual([]);
  });

  it('sees a changed, added or removed source, and not a file that was only touched', () => {
    writeFileSync(path.join(dir, 'a.ts'), 'export const a = 1;\n');
    writeFileSync(path.join(dir, 'a.test.ts'), 'a test\n');
    const first = sourceHash(['.'], dir);
    utimesSync(path.join(dir, 'a.ts'), new Date(), new Date(Date.now() + 60_000));
    expect(sourceHash(['.'], dir)).toBe(first);
    writeFileSync(path.join(dir, 'a.test.ts'), 'a changed test\n');
    expect(sourceHash(['.'], dir), 'tests are not built').toBe(first);
    writeFileSync(path.join(dir, 'a.ts'), 'export const a = 2;\n');
    const changed = sourceHash(['.'], dir);
    expect(changed).not.toBe(first);
    writeFileSync(path.join(dir, 'b.ts'), '');
    const added = sourceHash(['.'], dir);
    expect(added).not.toBe(changed);
    rmSync(path.join(dir, 'b.ts'));
    expect(sourceHash(['.'], dir)).toBe(changed);
  });

  it('builds again when the stamp differs or the output is gone', () => {
    const stamp = path.join(dir, '.source-hash');
    writeStamp(stamp, 'abc');
    expect(upToDate(stamp, 'abc')).toBe(true);
    expect(upToDate(stamp, 'abd')).toBe(false);
    expect(upToDate(stamp, 'abc', path.join(dir, 'missing.js'))).toBe(false);
  });
});

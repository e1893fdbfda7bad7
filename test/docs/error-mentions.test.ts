import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { USER_DOCS } from './doc-files.js';

/**
 * The error codes the docs name exist, with the status they name: wherever the README, docs/ or
 * CONTRIBUTING.md write a status and a code together (`429 budget_exceeded`, 503
 * `store_unavailable`), the code is in the catalogue (src/errors.ts) with that status. The full
 * lists are held to the catalogue both ways by src/errors.test.ts (docs/api.md's table) and
 * test/docs/troubleshooting.test.ts.
 */

const mentions = USER_DOCS.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/\b([45]\d\d)\)?\s+`?([a-z][a-z0-9]*_[a-z0-9_]+)`?/g)].map((m) => ({
    file,
    status: Number(m[1]),
    code: m[2] as string,
  })),
);

describe('error codes named in the docs', () => {
  it('are found', () => {
    expect(mentions.length).toBeGreaterThan(50);
  });

  it('are codes of the catalogue, with their status', () => {
    const catalogue = ERROR_CODES as Record<string, { status: number }>;
    const wrong = mentions
      .filter(({ status, code }) => catalogue[code]?.status !== status)
      .map(({ file, status, code }) =>
        catalogue[code] ? `${file}: ${status} ${code} (it is ${catalogue[code].status})` : `${file}: ${status} ${code}`,
      );
    expect([...new Set(wrong)]).toEqual([]);
  });
});

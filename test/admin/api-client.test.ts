import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations.
import { clientTypes, SCHEMA_TYPES } from '../../scripts/openapi-client.mjs';

/**
 * The admin UI's client is typed from the OpenAPI document (web/src/api/schema.d.ts); together with
 * test/manage/openapi.test.ts (the document matches the routes) and `npm run typecheck` (the UI
 * compiles against the types), a route change the UI does not follow fails here or there.
 */
describe("the admin UI's API types", () => {
  const spec = JSON.parse(readFileSync('api/openapi.json', 'utf8'));

  it('are the ones generated from the committed OpenAPI document (run `npm run openapi` after changing routes)', async () => {
    expect(readFileSync(SCHEMA_TYPES, 'utf8')).toBe(await clientTypes(spec));
  });

  it('change when the document does', async () => {
    const changed = structuredClone(spec);
    delete changed.paths['/manage/tokens'].get.parameters;
    expect(await clientTypes(changed)).not.toBe(await clientTypes(spec));
  });
});

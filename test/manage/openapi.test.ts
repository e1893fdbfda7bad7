import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportOpenApi } from '../../src/cli/openapi.js';

describe('committed OpenAPI document', () => {
  it('matches the spec generated from the route schemas (run `npm run openapi` after changing routes)', async () => {
    const committed = JSON.parse(readFileSync('api/openapi.json', 'utf8'));
    expect(committed).toEqual(await exportOpenApi());
  });
});

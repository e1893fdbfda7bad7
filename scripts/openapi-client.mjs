/**
 * Generates the admin UI's API types (web/src/api/schema.d.ts) from the committed OpenAPI document
 * (api/openapi.json), so the UI's client is typed by the same zod schemas that validate requests.
 * `npm run openapi` runs it after regenerating the document; test/admin/api-client.test.ts fails when
 * the committed types no longer match the document.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_TYPES = path.join(root, 'web', 'src', 'api', 'schema.d.ts');

const HEADER = '// Generated from api/openapi.json by scripts/openapi-client.mjs (`npm run openapi`). Do not edit.\n\n';

/** The types file for a given OpenAPI document (the committed one by default). */
export async function clientTypes(spec = JSON.parse(readFileSync(path.join(root, 'api', 'openapi.json'), 'utf8'))) {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(spec, { alphabetize: true });
  return HEADER + astToString(ast);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  writeFileSync(SCHEMA_TYPES, await clientTypes());
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

/**
 * The compose files under deploy/compose, parsed as Docker Compose reads them (YAML merge keys
 * resolved), and the Compose Specification's JSON schema to validate them with (the copy dclint, a
 * Compose linter, ships and keeps current).
 */

/** Parsed YAML: the tests check it field by field. */
export type Doc = Record<string, any>;

export function readCompose(file: string): Doc {
  return parse(readFileSync(file, 'utf8'), { merge: true }) as Doc;
}

const schemaFile = path.join(
  path.dirname(createRequire(import.meta.url).resolve('dclint/package.json')),
  'schemas/compose.schema.json',
);

/** The schema errors of a parsed compose file, or [] when it is valid. */
export const composeErrors: (doc: Doc) => string[] = (() => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  // Draft-07, Ajv's own, named by an https URL that Ajv does not know as its meta-schema.
  const { $schema, ...schema } = JSON.parse(readFileSync(schemaFile, 'utf8'));
  if (!String($schema).includes('draft-07')) throw new Error(`${schemaFile}: not draft-07 but ${$schema}`);
  const validate = ajv.compile(schema);
  return (doc: Doc) =>
    validate(doc)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
})();

/** The names of the variables a compose file interpolates (`${NAME}`, `${NAME:?message}`, …). */
export function interpolated(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string))].sort();
}

/** Go duration as compose writes it (`620s`, `10m`, `1m30s`) in seconds. */
export function seconds(duration: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let total = 0;
  for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g))
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
  return total;
}

/** The directives of an nginx configuration, comments and blank space removed, one per line. */
export function nginxDirectives(conf: string): string[] {
  return conf
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
}

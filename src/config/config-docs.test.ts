import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markedSection } from '../shared/doc-text.js';
import { configSchema } from './schema.js';
import { SETTING_DOCS } from './settings-docs.js';
import { envExample, readmeClientSettings, readmeSettings } from './settings-reference.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const regenerate = 'run npm run docs to regenerate it';

/**
 * A setting that exists is documented, and one that is documented exists: the README's settings
 * list and `.env.example` are generated from the schema (settings-reference.ts), and must be what
 * the schema generates now.
 */
describe('the settings reference', () => {
  it('describes every setting of the schema, and no other', () => {
    expect(Object.keys(SETTING_DOCS).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('in the README is what the schema generates', () => {
    const readme = read('README.md');
    expect(markedSection(readme, 'settings'), regenerate).toBe(readmeSettings());
    expect(markedSection(readme, 'client-settings'), regenerate).toBe(readmeClientSettings());
  });

  it('in .env.example is what the schema generates', () => {
    expect(read('.env.example'), regenerate).toBe(envExample());
  });

  it('names in the README only settings that exist', () => {
    const documented = [...read('README.md').matchAll(/^- `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1] as string);
    const settings = Object.keys(configSchema.shape);
    // The rest are read by load.ts itself (the one reader of process.env), outside the schema.
    const loader = read('src/config/load.ts');
    expect(documented.filter((k) => !settings.includes(k) && !new RegExp(`\\b${k}\\b`).test(loader))).toEqual([]);
    expect(settings.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('states the defaults and ranges the schema applies', () => {
    const list = readmeSettings();
    expect(list).toContain('- `LISTEN_ADDR` (default `:8080`):');
    expect(list).toContain('- `UPSTREAM_SHARE_PERCENT` (default `50`; whole number 1–100):');
    expect(list).toContain('`LOG_LEVEL` (default `info`; one of `fatal`, `error`,');
    expect(envExample()).toContain('\n# UPSTREAM_SHARE_PERCENT=50\n');
  });
});

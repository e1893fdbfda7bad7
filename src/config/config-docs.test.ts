import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markedSection } from '../shared/doc-text.js';
import { configSchema } from './schema.js';
import { SETTING_DOCS } from './settings-docs.js';
import {
  clientSettings,
  configurationSettings,
  envExample,
  README_SETTINGS,
  readmeSettings,
} from './settings-reference.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const regenerate = 'run npm run docs to regenerate it';

/** The settings a list in a doc names: its `- \`NAME\`` lines. */
const listed = (text: string) => [...text.matchAll(/^- `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1] as string);

/**
 * A setting that exists is documented, and one that is documented exists: docs/configuration.md's
 * settings reference, the README's short list and `.env.example` are generated from the schema
 * (settings-reference.ts), and must be what the schema generates now.
 */
describe('the settings reference', () => {
  it('describes every setting of the schema, and no other', () => {
    expect(Object.keys(SETTING_DOCS).sort()).toEqual(Object.keys(configSchema.shape).sort());
  });

  it('in docs/configuration.md is what the schema generates', () => {
    const doc = read('docs/configuration.md');
    expect(markedSection(doc, 'settings'), regenerate).toBe(configurationSettings());
    expect(markedSection(doc, 'client-settings'), regenerate).toBe(clientSettings());
  });

  it('in the README is what the schema generates, for the settings it picks', () => {
    expect(markedSection(read('README.md'), 'settings'), regenerate).toBe(readmeSettings());
    expect(listed(readmeSettings())).toEqual([...README_SETTINGS]);
  });

  it('in .env.example is what the schema generates', () => {
    expect(read('.env.example'), regenerate).toBe(envExample());
  });

  it('names in docs/configuration.md every setting, and only settings that exist', () => {
    const documented = listed(markedSection(read('docs/configuration.md'), 'settings') ?? '');
    const settings = Object.keys(configSchema.shape);
    // The rest are read by load.ts itself (the one reader of process.env), outside the schema.
    const loader = read('src/config/load.ts');
    expect(documented.filter((k) => !settings.includes(k) && !new RegExp(`\\b${k}\\b`).test(loader))).toEqual([]);
    expect(settings.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('names in the README and .env.example only settings that exist', () => {
    const settings = new Set([...Object.keys(configSchema.shape), 'CONFIG_FILE']);
    const envNames = [...read('.env.example').matchAll(/^# ([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1] as string);
    const clientOnly = new Set(['LLM_PROXY_URL']);
    expect(listed(markedSection(read('README.md'), 'settings') ?? '').filter((k) => !settings.has(k))).toEqual([]);
    expect(envNames.filter((k) => !settings.has(k) && !clientOnly.has(k))).toEqual([]);
    expect([...settings].filter((k) => !envNames.includes(k))).toEqual([]);
  });

  it('states the defaults and ranges the schema applies', () => {
    const list = configurationSettings();
    expect(list).toContain('- `LISTEN_ADDR` (default `:8080`):');
    expect(list).toContain('- `UPSTREAM_SHARE_PERCENT` (default `50`; whole number 1–100):');
    expect(list).toContain('`LOG_LEVEL` (default `info`; one of `fatal`, `error`,');
    expect(envExample()).toContain('\n# UPSTREAM_SHARE_PERCENT=50\n');
  });

  it('links from docs/ to docs/ relative to docs/', () => {
    expect(configurationSettings()).not.toContain('](docs/');
    expect(configurationSettings()).toContain('](scaling.md#');
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { USER_DOCS } from './doc-files.js';

/**
 * The settings the docs name exist: every `NAME` or `NAME=value` code span of the README, docs/ and
 * CONTRIBUTING.md that looks like an environment variable is a setting of the schema, a name the
 * source defines (the loader's CONFIG_FILE, the CLI's LLM_PROXY_URL, a constant such as
 * ERROR_CODES), or one of the variables below that other programs read. A misspelt or removed
 * setting fails here. The other way, every setting is documented, is config-docs.test.ts.
 */

/** Environment variables the docs mention that llm-proxy does not read, with who does. */
const OTHERS: Record<string, string> = {
  NODE_OPTIONS: 'Node.js',
  NODE_EXTRA_CA_CERTS: 'Node.js',
  MALLOC_ARENA_MAX: 'glibc',
  SSL_CERT_FILE: 'OpenSSL and the clients built on it (Python)',
  OPENAI_BASE_URL: 'the OpenAI SDKs and other clients',
  OPENAI_API_KEY: 'the OpenAI SDKs and other clients',
  OPENAI_API_BASE: 'older OpenAI clients',
};

function sourceText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|sh)$/.test(e.name))
    .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}
const source = [
  sourceText('src'),
  sourceText('test/helpers'),
  sourceText('scripts'),
  readFileSync('Dockerfile', 'utf8'),
].join('\n');

const settings = new Set(Object.keys(configSchema.shape));
const mentioned = USER_DOCS.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/`([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`/g)].map((m) => ({
    file,
    name: m[1] as string,
  })),
);

describe('environment variables named in the docs', () => {
  it('are found', () => {
    expect(mentioned.length).toBeGreaterThan(200);
  });

  it('are settings, names the source defines, or read by another program', () => {
    const unknown = mentioned.filter(
      ({ name }) => !settings.has(name) && OTHERS[name] === undefined && !new RegExp(`\\b${name}\\b`).test(source),
    );
    expect([...new Set(unknown.map(({ file, name }) => `${file}: ${name}`))]).toEqual([]);
  });

  it('list of others names only variables the docs mention and llm-proxy does not read', () => {
    const names = new Set(mentioned.map((m) => m.name));
    expect(Object.keys(OTHERS).filter((n) => !names.has(n) || settings.has(n))).toEqual([]);
  });
});

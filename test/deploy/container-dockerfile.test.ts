import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerfileProblems, execForm, ignoredByDockerignore, instructionsOf, parseDockerfile } from './dockerfile.js';

/**
 * The Dockerfile's rules, checked on the file as a parser reads it (no Docker engine here): a
 * multi-stage build on a Node major the package supports, a numeric non-root user, a HEALTHCHECK
 * on /live, tini as PID 1, DATA_DIR a volume, OCI labels, no secret in ENV or ARG, no ADD of a URL,
 * and every file it copies present in the build context that .dockerignore leaves.
 */
const DOCKERFILE = readFileSync('Dockerfile', 'utf8');
const DOCKERIGNORE = readFileSync('.dockerignore', 'utf8').split('\n');
const ENGINES: string = JSON.parse(readFileSync('package.json', 'utf8')).engines.node;
const DOCS = readFileSync('docs/container.md', 'utf8');

const problems = (text: string, docs = DOCS) =>
  dockerfileProblems(text, { root: '.', dockerignore: DOCKERIGNORE, enginesNode: ENGINES, docs });

/** The Dockerfile with one line changed: `from` must occur exactly once. */
function mutated(from: string | RegExp, to: string): string {
  const hits = DOCKERFILE.split('\n').filter((l) => (typeof from === 'string' ? l.includes(from) : from.test(l)));
  if (hits.length !== 1) throw new Error(`expected one line matching ${from}, found ${hits.length}`);
  return DOCKERFILE.replace(from, to);
}

describe('the Dockerfile', () => {
  it('keeps every rule', () => {
    expect(problems(DOCKERFILE)).toEqual([]);
  });

  it('runs the server through tini, as the unprivileged user, with the data folder as a volume', () => {
    const { final, stages } = parseDockerfile(DOCKERFILE);
    expect(stages.map((s) => s.name)).toEqual(['build', 'app', null]);
    expect(execForm(instructionsOf(final, 'ENTRYPOINT')[0])).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '/app/dist/cli/main.js',
    ]);
    expect(execForm(instructionsOf(final, 'CMD')[0])).toEqual(['serve']);
    expect(instructionsOf(final, 'EXPOSE')[0]?.getArgumentsContent()).toBe('8080');
  });

  // Each rule, broken on purpose, is reported: the check above can fail.
  it.each([
    ['a single stage', DOCKERFILE.replace(/^[\s\S]*?(?=^FROM node:\$\{NODE_VERSION\}-trixie-slim$)/m, ''), 'stage'],
    ['USER root', mutated('USER 10001:10001', 'USER root'), 'numeric'],
    ['USER 0', mutated('USER 10001:10001', 'USER 0'), 'is root'],
    ['no USER', mutated('USER 10001:10001', ''), 'no USER'],
    ['no HEALTHCHECK', mutated(/^HEALTHCHECK .*\\$/m, '#').replace(/^ {2}CMD \[.*$/m, ''), 'HEALTHCHECK'],
    ['a HEALTHCHECK elsewhere', mutated("path:'/live'", "path:'/health'"), '/live'],
    ['ADD of a URL', mutated('COPY pricing ./pricing', 'ADD https://example.com/p.json ./pricing/'), 'URL'],
    ['a secret in ENV', mutated('ENV DATA_DIR=/data', 'ENV MANAGEMENT_TOKEN=mgmt-abc DATA_DIR=/data'), 'secret'],
    ['a secret build argument', mutated('ARG REVISION=unknown', 'ARG ENCRYPTION_KEY'), 'secret'],
    ['Node 20', mutated('ARG NODE_VERSION=26', 'ARG NODE_VERSION=20'), 'engines'],
    ['an unpinned base', mutated('ARG NODE_VERSION=26', 'ARG NODE_VERSION=latest'), 'expected node'],
    ['no tini', mutated('"/usr/bin/tini", "--", ', ''), 'not tini'],
    ['a missing label', mutated(/^\s+org\.opencontainers\.image\.licenses="MIT" \\$/m, ''), 'licenses'],
    ['DATA_DIR not a volume', mutated('VOLUME ["/data", ', 'VOLUME ['), 'not a VOLUME'],
    ['a COPY of a missing file', mutated('COPY web ./web', 'COPY webapp ./web'), 'no such file'],
    ['a COPY of an ignored file', mutated('COPY web ./web', 'COPY test ./test'), '.dockerignore'],
  ])('reports %s', (_, text, expected) => {
    expect(problems(text).join('\n')).toContain(expected);
  });

  it('may leave tini out when the docs say to run with --init', () => {
    const withoutTini = mutated('"/usr/bin/tini", "--", ', '');
    expect(problems(withoutTini, 'docker run --init llm-proxy')).toEqual([]);
  });
});

describe('.dockerignore', () => {
  it('keeps local data, secrets, dependencies and builds out of the build context', () => {
    for (const f of [
      'node_modules/fastify/package.json',
      '.git/HEAD',
      'data/encryption.key',
      'data/llm-proxy.db',
      'dist/cli/main.js',
      'web/node_modules/x.js',
      '.env',
      '.env.production',
      'coverage/index.html',
      'test-results/a.json',
      'llm-proxy-0.1.0.tgz',
    ]) {
      expect(ignoredByDockerignore(DOCKERIGNORE, f), f).toBe(true);
    }
  });

  it('lets through what the build reads', () => {
    for (const f of ['package.json', 'src/cli/main.ts', 'web/index.html', 'scripts/build.mjs', 'pricing/openai.json']) {
      expect(ignoredByDockerignore(DOCKERIGNORE, f), f).toBe(false);
    }
  });

  it('is matched the way Docker matches it', () => {
    expect(ignoredByDockerignore(['*', '!src'], 'src/a/b.ts')).toBe(false);
    expect(ignoredByDockerignore(['*', '!src', '**/*.key'], 'src/a/b.key')).toBe(true);
    expect(ignoredByDockerignore(['data'], 'data/x/y')).toBe(true);
    expect(ignoredByDockerignore(['data'], 'src/data')).toBe(false);
    expect(ignoredByDockerignore(['*.md'], 'docs/a.md')).toBe(false);
    expect(ignoredByDockerignore(['# data', ''], 'data')).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../src/manage/route-access.js';
import { docCommands } from './doc-commands.js';
import { curlCalls, exemplified, routeOf } from './doc-curl.js';

/**
 * docs/api.md has an example, a curl request and the reply, for every route the server registers
 * outside the proxy (the management routes of ROUTE_ACCESS, which the server refuses to start
 * without, those of the OpenAPI spec, and the health routes), and every route it calls or names in
 * a heading exists. The examples themselves run as pasted, and their replies are compared with a
 * real run's, in commands.test.ts.
 */

const HEALTH = ['GET /health', 'GET /live', 'GET /ready', 'GET /metrics'];
const spec = JSON.parse(readFileSync('api/openapi.json', 'utf8')) as { paths: Record<string, object> };
const manage = [
  ...Object.keys(ROUTE_ACCESS).map((r) => r.replace(' /', ' /manage/').replace(/:(\w+)/g, '{$1}')),
  ...Object.entries(spec.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)),
];
const routes = [...new Set([...manage, ...HEALTH])].sort();
/** What a doc may also call: the proxy. */
const callable = [...routes, 'any /v1/*'];

const FILE = 'docs/api.md';
const commands = docCommands(FILE);

describe('docs/api.md', () => {
  it('shows an example request and its reply for every route', () => {
    const shown = exemplified(commands, routes);
    expect(routes.filter((r) => !shown.has(r))).toEqual([]);
  });

  it('calls only routes that exist', () => {
    const unknown = commands.flatMap((c) =>
      curlCalls(c.text)
        .filter((call) => routeOf(call, callable) === undefined)
        .map((call) => `${FILE}:${c.line}: ${call.method} ${call.path}`),
    );
    expect(unknown).toEqual([]);
  });

  it('names in its headings only routes that exist', () => {
    const headings = readFileSync(FILE, 'utf8')
      .split('\n')
      .filter((l) => /^#{2,4} (GET|POST|PUT|PATCH|DELETE) /.test(l));
    expect(headings.length).toBeGreaterThan(20);
    const named = headings.flatMap((h) =>
      [...h.matchAll(/\b(GET|POST|PUT|PATCH|DELETE) (\/\S+?)(?=,|$|\s)/g)].map((m) => `${m[1]} ${m[2]}`),
    );
    expect(named.filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('reads methods and paths of curl calls as curl does', () => {
    expect(curlCalls(`curl -s -H "$H" 'http://localhost:8080/manage/tokens?limit=1'`)).toEqual([
      { method: 'GET', path: '/manage/tokens' },
    ]);
    expect(
      curlCalls(`X=$(curl -s -H "$H" http://localhost:8080/manage/projects -d '{}' | jq -r .id)
curl -s -X DELETE "http://localhost:8080/manage/projects/$X"`),
    ).toEqual([
      { method: 'POST', path: '/manage/projects' },
      { method: 'DELETE', path: '/manage/projects/$X' },
    ]);
    expect(routeOf({ method: 'POST', path: '/manage/tokens/batch' }, routes)).toBe('POST /manage/tokens/batch');
    expect(routeOf({ method: 'GET', path: '/manage/tokens/$TOKEN_ID' }, routes)).toBe('GET /manage/tokens/{id}');
    expect(routeOf({ method: 'GET', path: '/manage/nope' }, routes)).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../../src/manage/route-access.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * docs/api.md's table of routes against the program, both ways: every route of the OpenAPI spec and of
 * the management API's access rules has a row, with the role the rules give it and every query
 * parameter the spec lists; every row is a route (a /manage row is in the rules; any other answers
 * on a running server).
 */

interface Row {
  method: string;
  path: string;
  auth: string;
  purpose: string;
}

function apiTable(): Row[] {
  const doc = readFileSync('docs/api.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Routes'));
  const table = section.slice(section.indexOf('| Method'), section.indexOf('\n\n', section.indexOf('| Method')));
  return table
    .split('\n')
    .slice(2)
    .map((line) => {
      const [method = '', path = '', auth = '', purpose = ''] = line
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim());
      return { method, path: path.replace(/`/g, ''), auth, purpose };
    });
}

interface Spec {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
}
const spec = JSON.parse(readFileSync('api/openapi.json', 'utf8')) as Spec;
const specRoutes = Object.entries(spec.paths).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({
    route: `${method.toUpperCase()} ${path}`,
    query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
  })),
);

const rows = apiTable();
const key = (r: Row) => `${r.method} ${r.path}`;
const manageRows = rows.filter((r) => r.path.startsWith('/manage/'));
/** A rule's key (`GET /projects/:id`) as the table writes it (`GET /manage/projects/{id}`). */
const ruleRoute = (rule: string) => rule.replace(' /', ' /manage/').replace(/:(\w+)/g, '{$1}');

describe('the table of routes in docs/api.md', () => {
  it('has a row for every route of the OpenAPI spec', () => {
    const table = new Set(rows.map(key));
    expect(specRoutes.map((r) => r.route).filter((r) => !table.has(r))).toEqual([]);
  });

  it('names every query parameter the spec gives a route', () => {
    const missing = specRoutes.flatMap(({ route, query }) => {
      const row = rows.find((r) => key(r) === route);
      return row ? query.filter((q) => !row.purpose.includes(`\`${q}\``)).map((q) => `${route} ${q}`) : [];
    });
    expect(missing).toEqual([]);
  });

  it('has a row for every management route, with the role its access rule gives it', () => {
    const expected = Object.entries(ROUTE_ACCESS)
      .map(([rule, access]) => `${ruleRoute(rule)} ${access === 'public' ? '–' : access}`)
      .sort();
    expect(manageRows.map((r) => `${key(r)} ${r.auth}`).sort()).toEqual(expected);
  });

  describe('rows outside /manage', () => {
    let st: TestServer;
    beforeAll(async () => {
      st = await startTestServer();
    });
    afterAll(async () => st?.stop());

    it('are routes of a running server', async () => {
      const others = rows.filter((r) => !r.path.startsWith('/manage/'));
      expect(others.length).toBeGreaterThan(0);
      const answers: string[] = [];
      for (const r of others) {
        const method = r.method === 'any' ? 'GET' : r.method;
        const path = r.path.replace('/*', '/models');
        const res = await fetch(`${st.url}${path}`, {
          method,
          headers: r.auth === 'admin' ? { authorization: `Bearer ${st.managementToken}` } : {},
        });
        await res.arrayBuffer();
        if (res.status === 404) answers.push(`${key(r)}: 404`);
        if (r.auth === '–' && res.status >= 400 && path !== '/ready') answers.push(`${key(r)}: ${res.status}`);
      }
      expect(answers).toEqual([]);
    });
  });
});

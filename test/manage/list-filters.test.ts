/**
 * What the admin UI's lists ask the management API for, on SQLite and PostgreSQL: tokens filtered by
 * status, expiry, name and project, sorted by any column with keyset paging that neither repeats nor
 * skips a row; projects searched by name; the usage report cut to its top N groups; the overview.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbEnv } from '../audit/helpers.js';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS, type TestDatabase } from '../helpers/databases.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';

const MIN = 60_000;

describe.each(DIALECTS)('list filters and sorting (%s)', (_name, make) => {
  let tdb: TestDatabase | undefined;
  let st: ProxyStack;
  const clock = manualClock();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tdb = await make();
    if (!tdb) return;
    st = await startProxyStack({
      env: { ...dbEnv(tdb, randomBytes(32).toString('base64')), MAINTENANCE_INTERVAL_MS: '0' },
      clock: clock.now,
    });
    const issue = async (body: Record<string, unknown>) =>
      (await st.s.manage('POST', '/tokens', { project_id: st.projectId, ...body })).body;
    ids.soon = (await issue({ name: 'Alpha-CI', duration_minutes: 30 })).id;
    ids.later = (await issue({ name: 'beta_50%', duration_minutes: 60 * 24 * 30 })).id;
    ids.never = (await issue({ name: 'gamma' })).id;
    ids.capped = (await issue({ name: 'delta', max_requests: 1 })).id;
    ids.revoked = (await issue({ name: 'alpha-old' })).id;
    ids.unnamed = (await issue({})).id;
    await st.s.manage('DELETE', `/tokens/${ids.revoked}`);
    const capped = (
      await st.s.manage('POST', '/tokens', { project_id: st.projectId, name: 'epsilon', max_requests: 1 })
    ).body;
    ids.used = capped.id;
    await st
      .clientFor(capped.token)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    await st.waitUsage(capped.id, 1);
    // The first token's 30 minutes pass: it is expired from now on (the maintenance job is off).
    clock.advance(31 * MIN);
  });

  afterAll(async () => {
    await st?.stop();
    await tdb?.drop();
  });

  const list = async (q: string) => {
    const r = await st.s.manage('GET', `/tokens?${q}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as { data: Array<{ id: string; name: string | null; status: string }>; next_cursor: string | null };
  };
  const names = async (q: string) => (await list(q)).data.map((t) => t.name);

  it('filters tokens by the status they have now', async ({ skip }) => {
    if (!tdb) skip();
    expect(await names('status=expired')).toEqual(['Alpha-CI']);
    expect(await names('status=revoked')).toEqual(['alpha-old']);
    expect(await names('status=exhausted')).toEqual(['epsilon']);
    // The stack's own unnamed token is active too.
    expect((await names('status=active')).sort()).toEqual(['beta_50%', 'delta', 'gamma', null, null].sort());
    const all = await list('limit=1000');
    for (const t of all.data)
      expect((await list(`status=${t.status}&limit=1000`)).data.map((x) => x.id)).toContain(t.id);
  });

  it('filters by expiry before a time, name contained ignoring case (wildcards literal), and project', async ({
    skip,
  }) => {
    if (!tdb) skip();
    const inTwoDays = new Date(clock.now() + 2 * 24 * 60 * MIN).toISOString();
    expect(await names(`expires_before=${encodeURIComponent(inTwoDays)}`)).toEqual(['Alpha-CI']);
    expect(await names(`status=active&expires_before=${clock.now() + 60 * 24 * 31 * MIN}`)).toEqual(['beta_50%']);
    expect(await names('name=ALPHA')).toEqual(['Alpha-CI', 'alpha-old']);
    expect(await names('name=50%25')).toEqual(['beta_50%']);
    expect(await names('name=a_5')).toEqual(['beta_50%']);
    expect(await names('name=%25')).toEqual(['beta_50%']);
    expect(await names('name=_')).toEqual(['beta_50%']);
    const other = await st.addProject('other');
    expect((await list(`project_id=${other.projectId}`)).data.map((t) => t.id)).toEqual([other.id]);
  });

  it('sorts by each column, both ways, and pages through every row exactly once', async ({ skip }) => {
    if (!tdb) skip();
    const every = (await list('limit=1000')).data;
    for (const sort of ['created', 'name', 'expires_at', 'last_used_at', 'request_count']) {
      for (const order of ['asc', 'desc']) {
        const whole = (await list(`sort=${sort}&order=${order}&limit=1000`)).data.map((t) => t.id);
        expect(whole.sort()).toEqual(every.map((t) => t.id).sort());
        const paged: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await list(`sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          paged.push(...page.data.map((t) => t.id));
          cursor = page.next_cursor;
        } while (cursor);
        expect({ sort, order, paged }).toEqual({
          sort,
          order,
          paged: (await list(`sort=${sort}&order=${order}&limit=1000`)).data.map((t) => t.id),
        });
      }
    }
    // No name sorts as '' (first); the rest in the database's own text order, the same for the keyset.
    expect((await names('sort=name&limit=1000')).filter((n) => n !== null)).toEqual([
      'Alpha-CI',
      'alpha-old',
      'beta_50%',
      'delta',
      'epsilon',
      'gamma',
    ]);
    expect((await list('sort=expires_at&order=asc&limit=1')).data[0]?.id).toBe(ids.soon);
    expect((await list('sort=request_count&order=desc&limit=1')).data[0]?.id).toBe(ids.used);
    expect((await list('sort=last_used_at&order=desc&limit=1')).data[0]?.id).toBe(ids.used);
  });

  it('refuses a bad filter or a cursor it did not issue', async ({ skip }) => {
    if (!tdb) skip();
    for (const q of [
      'status=gone',
      'sort=token_hash',
      'order=up',
      'expires_before=soon',
      `cursor=${Buffer.from('[1]').toString('base64url')}`,
    ]) {
      const r = await st.s.manage('GET', `/tokens?${q}`);
      expect({ q, status: r.status, code: r.body.error.code }).toEqual({ q, status: 400, code: 'invalid_request' });
    }
  });

  it('searches projects by name', async ({ skip }) => {
    if (!tdb) skip();
    const r = await st.s.manage('GET', '/projects?name=OTH');
    expect(r.body.data.map((p: { name: string }) => p.name)).toEqual(['other']);
    expect((await st.s.manage('GET', '/projects?name=zzz')).body.data).toEqual([]);
  });

  it('cuts a ranked usage report to its top N, keeping the totals of all, and refuses limit on time groups', async ({
    skip,
  }) => {
    if (!tdb) skip();
    const other = await st.addProject('busy');
    const c = st.clientFor(other.token);
    for (let i = 0; i < 3; i++)
      await c.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await st.waitUsage(other.id, 3);
    const all = (await st.s.manage('GET', '/usage?group_by=token')).body;
    const top = (await st.s.manage('GET', '/usage?group_by=token&limit=1')).body;
    expect(all.data.length).toBeGreaterThan(1);
    expect(top.data).toEqual([all.data[0]]);
    expect(top.totals).toEqual(all.totals);
    const bad = await st.s.manage('GET', '/usage?group_by=day&limit=3');
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('limit');

    // The records carry the server's (moved) clock: the window is given in that time.
    const from = clock.now() - 24 * 60 * MIN;
    const to = clock.now() + 60 * MIN;
    const o = (await st.s.manage('GET', `/usage/overview?from=${from}&to=${to}&top=1`)).body;
    expect(o.bucket).toBe('hour');
    expect(o.totals).toEqual(all.totals);
    expect(o.top.tokens).toEqual([expect.objectContaining({ token_id: other.id, project_name: 'busy', requests: 3 })]);
    expect(o.top.projects).toEqual([expect.objectContaining({ project_id: other.projectId, project_name: 'busy' })]);
    expect(o.top.models[0]).toMatchObject({ model: 'gpt-4o', requests: 3 });
    expect(o.series.reduce((n: number, e: { requests: number }) => n + e.requests, 0)).toBe(all.totals.requests);
    expect((await st.s.manage('GET', `/usage/overview?from=${from - 30 * 24 * 60 * MIN}&to=${to}`)).body.bucket).toBe(
      'day',
    );
    for (const q of ['', 'from=x', `from=${from}&to=${from}`, `from=${from}&top=0`, `from=${from}&bucket=week`]) {
      expect((await st.s.manage('GET', `/usage/overview?${q}`)).status).toBe(400);
    }
  });
});

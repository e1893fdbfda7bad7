import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** docs/api.md's sample of the maintenance log line has the fields a real pass reports, and no others. */
describe('the maintenance pass, as documented', () => {
  let st: TestServer;
  beforeAll(async () => {
    st = await startTestServer();
  });
  afterAll(async () => st?.stop());

  it('logs the fields docs/api.md shows', async () => {
    const doc = readFileSync('docs/api.md', 'utf8');
    const sample = /`(\{"usage_records_deleted"[^`]*"msg":"maintenance pass"\})`/.exec(doc)?.[1];
    expect(sample, 'docs/api.md shows a maintenance log line').toBeDefined();
    const { errors: _errors, ...report } = await st.server.runtime.maintenance.runOnce();
    const documented = Object.keys(JSON.parse(sample as string)).filter((k) => k !== 'msg');
    expect(documented.sort()).toEqual(Object.keys(report).sort());
  });
});

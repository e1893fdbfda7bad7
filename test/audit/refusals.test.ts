import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../helpers/clock.js';
import { DIALECTS } from '../helpers/databases.js';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { auditEvents, stackOn } from './helpers.js';

const MINUTE = 60_000;
const badToken = () => `sk-llmp-${randomBytes(32).toString('base64url')}`;

/** Refused proxy requests become one audit row per token, reason and minute, with a count. */
describe.each(DIALECTS)('refused-request summaries on %s', (_name, make) => {
  // 10 s into a minute, so every request of the test lands in this one.
  const clock = manualClock(Date.UTC(2026, 4, 4, 8, 30, 10));
  const minute = Date.UTC(2026, 4, 4, 8, 30);
  const stack = stackOn(make, { clock: clock.now });
  let st: ProxyStack;
  beforeAll(() => {
    st = stack.st;
  });

  it('counts 500 unknown tokens as one row, and each known token and reason as its own', async () => {
    for (let i = 0; i < 10; i++) {
      const statuses = await Promise.all(
        Array.from({ length: 50 }, async () => (await st.proxy('/v1/models', { token: badToken() })).status),
      );
      expect(statuses.every((s) => s === 401)).toBe(true);
    }
    for (let i = 0; i < 3; i++) expect((await st.proxy('/v1/models', { token: null })).status).toBe(401);
    const revoked = await st.issueToken({ name: 'leaked' });
    await st.s.manage('DELETE', `/tokens/${revoked.id}`);
    for (let i = 0; i < 4; i++) expect((await st.proxy('/v1/models', { token: revoked.token })).status).toBe(401);
    const capped = await st.issueToken({ max_requests: 1 });
    expect((await st.proxy('/v1/models', { token: capped.token })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await st.proxy('/v1/models', { token: capped.token })).status).toBe(429);

    // Nothing is written while the minute lasts.
    await st.s.server.runtime.audit.flushRefusals();
    expect(await auditEvents(st.s, { action: 'proxy.refused' })).toEqual([]);

    // The next minute: one more unknown token, which stays pending while the first minute is written.
    clock.advance(MINUTE);
    expect((await st.proxy('/v1/models', { token: badToken() })).status).toBe(401);
    await st.s.server.runtime.audit.flushRefusals();
    const events = await auditEvents(st.s, { action: 'proxy.refused' });
    const at = new Date(minute).toISOString();
    expect(
      events.map((e) => ({
        actor: [e.actor_type, e.actor_id],
        target: [e.target_type, e.target_id],
        ip: e.client_ip,
        d: e.details,
      })),
    ).toEqual(
      expect.arrayContaining([
        {
          actor: ['anonymous', null],
          target: ['token', null],
          ip: '127.0.0.1',
          d: { reason: 'unknown_token', count: 500, minute: at, client_ips: ['127.0.0.1'] },
        },
        {
          actor: ['anonymous', null],
          target: ['token', null],
          ip: '127.0.0.1',
          d: { reason: 'missing_token', count: 3, minute: at, client_ips: ['127.0.0.1'] },
        },
        {
          actor: ['token', revoked.id],
          target: ['token', revoked.id],
          ip: '127.0.0.1',
          d: { reason: 'token_revoked', count: 4, minute: at, project_id: st.projectId, client_ips: ['127.0.0.1'] },
        },
        {
          actor: ['token', capped.id],
          target: ['token', capped.id],
          ip: '127.0.0.1',
          d: {
            reason: 'request_limit_reached',
            count: 2,
            minute: at,
            project_id: st.projectId,
            client_ips: ['127.0.0.1'],
          },
        },
      ]),
    );
    expect(events).toHaveLength(4);
    // Each row names one refused request, to find in the logs.
    for (const e of events) expect(e.request_id).toMatch(/^[0-9a-f-]{36}$/);

    // Closing writes the minute still in progress (what `close` does on shutdown).
    expect(st.s.server.runtime.audit.refusals.pending).toBe(1);
    await st.s.server.runtime.audit.flushRefusals(true);
    expect(st.s.server.runtime.audit.refusals.pending).toBe(0);
    expect((await auditEvents(st.s, { action: 'proxy.refused' })).at(-1)?.details).toEqual({
      reason: 'unknown_token',
      count: 1,
      minute: new Date(minute + MINUTE).toISOString(),
      client_ips: ['127.0.0.1'],
    });
  });
});

describe('refused-request summaries switched off', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { AUDIT_REFUSED_REQUESTS: 'false', MAINTENANCE_INTERVAL_MS: '0' } });
  });
  afterAll(async () => st?.stop());

  it('AUDIT_REFUSED_REQUESTS=false attaches no hook: refusals are not counted', async () => {
    for (let i = 0; i < 5; i++) expect((await st.proxy('/v1/models', { token: badToken() })).status).toBe(401);
    expect(st.s.server.runtime.audit.refusals.pending).toBe(0);
    await st.s.server.runtime.audit.flushRefusals(true);
    expect(await auditEvents(st.s, { action: 'proxy.refused' })).toEqual([]);
  });
});

import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { usageRecord } from '../../test/helpers/rows.js';
import { createAccessLog, LineClock } from './access-log.js';
import { createLogger } from './logger.js';

describe('access log', () => {
  it('writes one valid JSON line in the logger format, escaping outside strings', () => {
    const out: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => out.push(c.toString()));
    const logger = createLogger({ level: 'info', stream });
    const log = createAccessLog(logger);
    log(
      usageRecord('t1', 'p1', {
        id: 'r1',
        path: '/v1/x"y\\z',
        model: 'gpt-"4o"',
        totalTokens: 12,
        upstreamMs: null,
        error: 'client_aborted',
        upstreamRequestId: 'req_"odd"',
      }),
      { ip: '::1', userAgent: `OpenAI/JS 6.0 "quoted" ${'x'.repeat(300)}` },
      undefined,
    );
    logger.info({ a: 1 }, 'regular');
    const [line, regular] = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({
      level: 'info',
      service: 'llm-proxy',
      path: '/v1/x"y\\z',
      model: 'gpt-"4o"',
      total_tokens: 12,
      prompt_tokens: 10,
      cost_nano_usd: 7,
      usage_status: 'reported',
      ttfb_ms: 2.25,
      bytes_in: 100,
      bytes_out: 200,
      upstream_ms: null,
      client_ip: '::1',
      error: 'client_aborted',
      upstream_request_id: 'req_"odd"',
      msg: 'proxy request',
    });
    expect(line).not.toHaveProperty('trace_id');
    expect(line.user_agent).toHaveLength(200);
    expect(line.user_agent.startsWith('OpenAI/JS 6.0 "quoted"')).toBe(true);
    expect(Object.keys(regular)).toEqual(expect.arrayContaining(['level', 'time', 'service', 'msg']));
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  });

  it('writes the time as toISOString does, and each line its own client', () => {
    const clock = new LineClock();
    for (const ms of [
      0, 9, 10, 99, 100, 999, 1000, 1_764_609_385_007, 1_764_609_385_070, 1_764_609_386_700, 1_764_609_385_999,
    ])
      expect(clock.iso(ms)).toBe(new Date(ms).toISOString());
    const out: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => out.push(c.toString()));
    const log = createAccessLog(createLogger({ level: 'info', stream }));
    const agents = ['a/1', 'a/1', undefined, 'b/2', 'b/2', 'a/1'];
    for (const userAgent of agents) log(usageRecord('t1', 'p1'), { ip: '::1', userAgent }, undefined);
    const lines = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.user_agent)).toEqual(agents.map((a) => a ?? null));
  });

  it('is silent below info', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (c: Buffer) => (written += c.toString()));
    const log = createAccessLog(createLogger({ level: 'warn', stream }));
    log(usageRecord('t', 'p', { path: '/v1/models' }), { ip: undefined, userAgent: undefined }, undefined);
    expect(written).toBe('');
  });

  it('carries the trace and span id of the request when tracing is on', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (c: Buffer) => (written += c.toString()));
    const log = createAccessLog(createLogger({ level: 'info', stream }));
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
    log(usageRecord('t', 'p', { path: '/v1/models' }), { ip: undefined, userAgent: undefined }, trace);
    expect(JSON.parse(written)).toMatchObject({ trace_id: trace.traceId, span_id: trace.spanId, msg: 'proxy request' });
  });
});

describe('access log sampling', () => {
  it('drops successes past LOG_SAMPLE_RATE and keeps every failure', () => {
    const out: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => out.push(c.toString()));
    const logger = createLogger({ level: 'info', stream });
    const none = createAccessLog(logger, { sampleRate: 0 });
    for (let i = 0; i < 50; i++)
      none(usageRecord('t1', 'p1', { id: `ok-${i}` }), { ip: undefined, userAgent: undefined });
    none(usageRecord('t1', 'p1', { id: 'bad', status: 503 }), { ip: undefined, userAgent: undefined });
    none(usageRecord('t1', 'p1', { id: 'cut', error: 'upstream_reset' }), { ip: undefined, userAgent: undefined });
    const all = createAccessLog(logger, { sampleRate: 1 });
    all(usageRecord('t1', 'p1', { id: 'kept' }), { ip: undefined, userAgent: undefined });
    const ids = out
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).request_id);
    expect(ids).toEqual(['bad', 'cut', 'kept']);
  });
});

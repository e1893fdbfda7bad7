import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLog } from './access-log.js';
import { createLogger } from './logger.js';

describe('access log', () => {
  it('writes one valid JSON line in the logger format, escaping outside strings', () => {
    const out: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (c: Buffer) => out.push(c.toString()));
    const logger = createLogger({ level: 'info', stream });
    const log = createAccessLog(logger);
    log({
      request_id: 'r1',
      token_id: 't1',
      project_id: 'p1',
      method: 'POST',
      path: '/v1/x"y\\z',
      status: 200,
      model: 'gpt-"4o"',
      is_stream: 0,
      total_tokens: 12,
      duration_ms: 1.5,
      upstream_ms: null,
      error: 'client_aborted',
    });
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
      upstream_ms: null,
      error: 'client_aborted',
      msg: 'proxy request',
    });
    expect(Object.keys(regular)).toEqual(expect.arrayContaining(['level', 'time', 'service', 'msg']));
    expect(Number.isNaN(Date.parse(line.time))).toBe(false);
  });

  it('is silent below info', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (c: Buffer) => (written += c.toString()));
    const log = createAccessLog(createLogger({ level: 'warn', stream }));
    log({
      request_id: 'r',
      token_id: 't',
      project_id: 'p',
      method: 'GET',
      path: '/v1/models',
      status: 200,
      model: null,
      is_stream: 0,
      total_tokens: null,
      duration_ms: 1,
      upstream_ms: 1,
      error: null,
    });
    expect(written).toBe('');
  });
});

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
      id: 'r1',
      tokenId: 't1',
      projectId: 'p1',
      method: 'POST',
      path: '/v1/x"y\\z',
      status: 200,
      model: 'gpt-"4o"',
      stream: false,
      totalTokens: 12,
      durationMs: 1.5,
      upstreamMs: null,
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
      id: 'r',
      tokenId: 't',
      projectId: 'p',
      method: 'GET',
      path: '/v1/models',
      status: 200,
      model: null,
      stream: false,
      totalTokens: null,
      durationMs: 1,
      upstreamMs: 1,
      error: null,
    });
    expect(written).toBe('');
  });
});

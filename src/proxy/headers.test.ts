import { describe, expect, it } from 'vitest';
import { presentedToken, responseHeaderList, upstreamRequestHeaders, upstreamRequestId } from './headers.js';

describe('header rules', () => {
  it('swaps the credential, drops hop-by-hop headers (and those named in Connection), keeps the rest', () => {
    const out = upstreamRequestHeaders(
      {
        host: 'proxy.local',
        authorization: 'Bearer sk-llmp-token',
        'api-key': 'sk-llmp-token',
        connection: 'keep-alive, x-private-hop',
        'x-private-hop': '1',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        expect: '100-continue',
        'proxy-authorization': 'Basic x',
        'transfer-encoding': 'chunked',
        'openai-beta': 'assistants=v2',
        'openai-organization': 'org-1',
        'idempotency-key': 'abc',
        'content-type': 'application/json',
        'accept-encoding': 'gzip, br',
      },
      { secret: 'sk-real', authStyle: 'bearer' },
    );
    expect(out).toEqual({
      authorization: 'Bearer sk-real',
      'openai-beta': 'assistants=v2',
      'openai-organization': 'org-1',
      'idempotency-key': 'abc',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
  });

  it('sends an api-key style key (Azure OpenAI) as `api-key`, with no Authorization at all', () => {
    const out = upstreamRequestHeaders(
      { authorization: 'Bearer sk-llmp-token', 'content-type': 'application/json' },
      { secret: 'azure-real', authStyle: 'api-key' },
    );
    expect(out).toEqual({ 'api-key': 'azure-real', 'content-type': 'application/json', 'accept-encoding': 'identity' });
  });

  it('passes upstream response headers back as sent, without hop-by-hop ones', () => {
    const raw = [
      ['X-Request-Id', 'req_1'],
      ['openai-processing-ms', '12'],
      ['x-ratelimit-remaining-requests', '99'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Connection', 'keep-alive, X-Hop'],
      ['X-Hop', '1'],
      ['Transfer-Encoding', 'chunked'],
      ['Keep-Alive', 'timeout=5'],
      ['Content-Length', '42'],
      ['Server-Timing', 'db;dur=3'],
    ].flatMap(([k, v]) => [Buffer.from(k as string), Buffer.from(v as string)]);
    expect(responseHeaderList(raw, false)).toEqual({
      list: [
        'X-Request-Id',
        'req_1',
        'openai-processing-ms',
        '12',
        'x-ratelimit-remaining-requests',
        '99',
        'Set-Cookie',
        'a=1',
        'Set-Cookie',
        'b=2',
        'Content-Length',
        '42',
      ],
      upstreamTiming: 'db;dur=3',
    });
    expect(responseHeaderList(raw, true).list).not.toContain('Content-Length');
  });

  it('reads the proxy token from Authorization or api-key', () => {
    expect(presentedToken({ authorization: 'Bearer sk-llmp-a' })).toBe('sk-llmp-a');
    expect(presentedToken({ authorization: 'bearer   sk-llmp-a ' })).toBe('sk-llmp-a');
    expect(presentedToken({ 'api-key': 'sk-llmp-b' })).toBe('sk-llmp-b');
    expect(presentedToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedToken({})).toBeUndefined();
  });

  it("reads the upstream's request id: x-request-id, else Azure's apim-request-id; a long one cut", () => {
    expect(upstreamRequestId({ 'x-request-id': 'req_1', 'apim-request-id': 'a-1' })).toBe('req_1');
    expect(upstreamRequestId({ 'apim-request-id': 'a-1' })).toBe('a-1');
    expect(upstreamRequestId({})).toBeNull();
    expect(upstreamRequestId({ 'x-request-id': '' })).toBeNull();
    expect(upstreamRequestId({ 'x-request-id': ['a', 'b'] })).toBeNull();
    expect(upstreamRequestId({ 'x-request-id': 'r'.repeat(1000) })).toBe('r'.repeat(128));
  });
});

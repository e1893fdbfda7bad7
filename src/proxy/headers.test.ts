import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, presentedToken, upstreamRequestHeaders } from './headers.js';

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
        'proxy-authorization': 'Basic x',
        'transfer-encoding': 'chunked',
        'openai-beta': 'assistants=v2',
        'openai-organization': 'org-1',
        'idempotency-key': 'abc',
        'content-type': 'application/json',
        'accept-encoding': 'gzip, br',
      },
      'sk-real',
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

  it('passes upstream response headers back without hop-by-hop ones', () => {
    expect(
      clientResponseHeaders({
        'x-request-id': 'req_1',
        'openai-processing-ms': '12',
        'x-ratelimit-remaining-requests': '99',
        'set-cookie': ['a=1', 'b=2'],
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
        'keep-alive': 'timeout=5',
      }),
    ).toEqual({
      'x-request-id': 'req_1',
      'openai-processing-ms': '12',
      'x-ratelimit-remaining-requests': '99',
      'set-cookie': ['a=1', 'b=2'],
    });
  });

  it('reads the proxy token from Authorization or api-key', () => {
    expect(presentedToken({ authorization: 'Bearer sk-llmp-a' })).toBe('sk-llmp-a');
    expect(presentedToken({ authorization: 'bearer   sk-llmp-a ' })).toBe('sk-llmp-a');
    expect(presentedToken({ 'api-key': 'sk-llmp-b' })).toBe('sk-llmp-b');
    expect(presentedToken({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedToken({})).toBeUndefined();
  });
});

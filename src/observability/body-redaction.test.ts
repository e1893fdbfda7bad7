import { describe, expect, it } from 'vitest';
import { loggedBody, redactSecrets } from './body-redaction.js';

describe('bodies in the log', () => {
  it('masks secret members and key shapes, even in a body cut mid-value', () => {
    const body = JSON.stringify({
      model: 'gpt-4o',
      api_key: 'sk-proj-abcdefghijklmnop',
      nested: { Authorization: 'Bearer sk-llmp-0123456789abcdef', password: 'hunter2 "quoted"' },
      messages: [{ role: 'user', content: 'my key is sk-live-9876543210zyxw, keep it' }],
    });
    const out = redactSecrets(body);
    expect(out).not.toMatch(/abcdefghijklmnop|0123456789abcdef|hunter2|9876543210zyxw/);
    expect(out).toContain('"api_key":"[redacted]"');
    expect(out).toContain('"model":"gpt-4o"');
    expect(out).toContain('keep it');
    const cut = loggedBody(Buffer.from('{"token":"sk-llmp-0123456789'), 'application/json', 1000);
    expect(cut).toBe('{"token":"[redacted]"');
  });

  it('cuts text at the cap and never logs binary bodies', () => {
    const big = Buffer.from(`{"input":"${'x'.repeat(100)}"}`);
    expect(loggedBody(big, 'application/json', 20)).toBe(`{"input":"xxxxxxxxxx…[${big.length - 20} more bytes]`);
    expect(loggedBody(Buffer.alloc(5000), 'multipart/form-data; boundary=x', 20)).toBe(
      '[5000 bytes of multipart/form-data; boundary=x]',
    );
  });
});

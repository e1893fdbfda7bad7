import { describe, expect, it } from 'vitest';
import { listenNotice } from './serve.js';

describe('the start banner on the listening address', () => {
  it('warns when every interface is bound (LISTEN_ADDR=:8080 or [::]:8080) and says how to bind locally', () => {
    for (const host of ['0.0.0.0', '::']) {
      const [first, second] = listenNotice(host, 8080);
      expect(first).toMatch(/^ {2}Listening on: {6}every network interface, port 8080: other machines can reach/);
      expect(second).toBe('                     (this machine only: start with LISTEN_ADDR=127.0.0.1:8080)');
    }
  });

  it('says nothing for an address someone chose', () => {
    for (const host of ['127.0.0.1', '::1', '10.0.0.5']) expect(listenNotice(host, 8080)).toEqual([]);
  });
});

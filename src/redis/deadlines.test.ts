import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

const never = () => new Promise<never>(() => undefined);

describe('Deadlines', () => {
  it('rejects calls without an outcome once the timeout has passed, in order, and leaves answered ones alone', async () => {
    const d = new Deadlines(30);
    const answered = d.race(Promise.resolve('ok'));
    const failed = d.race(Promise.reject(new Error('refused')));
    const first = d.race(never());
    const second = d.race(never());
    const order: string[] = [];
    first.catch(() => order.push('first'));
    second.catch(() => order.push('second'));
    await expect(answered).resolves.toBe('ok');
    await expect(failed).rejects.toThrow('refused');
    await expect(first).rejects.toThrow('no reply within 30 ms');
    await expect(second).rejects.toThrow('no reply within 30 ms');
    expect(order).toEqual(['first', 'second']);
  });

  it('serves calls started after the timer ran empty, and one started later than the rest expires later', async () => {
    const d = new Deadlines(20);
    await expect(d.race(never())).rejects.toThrow('no reply');
    const early = d.race(never());
    let answer!: (v: string) => void;
    const late = d.race(new Promise<string>((r) => (answer = r)));
    await expect(early).rejects.toThrow('no reply');
    answer('late but in time? no: same deadline');
    await expect(late).resolves.toBe('late but in time? no: same deadline');
  });

  it('a reply waiting in the socket when the timer runs (after a stalled event loop) wins over the deadline', async () => {
    const server = net.createServer((socket) => socket.write('reply'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const d = new Deadlines(10);
    const call = d.race(once(client, 'data').then(([b]) => String(b)));
    // The reply is sent now and waits in the socket while the event loop stalls past the deadline:
    // the timers run first after the stall, the socket is read next.
    const stallUntil = Date.now() + 100;
    while (Date.now() < stallUntil) {
      /* busy: a stalled event loop */
    }
    await expect(call).resolves.toBe('reply');
    client.destroy();
    await new Promise((r) => server.close(r));
  });
});

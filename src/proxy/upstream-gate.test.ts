import { describe, expect, it } from 'vitest';
import { Acquired, type SlotWaiter, UpstreamGate } from './upstream-gate.js';

/** A waiter that records what it was told, and can be awaited. */
function waiter(): SlotWaiter & { told: boolean[]; next: Promise<boolean> } {
  let resolve: (v: boolean) => void = () => {};
  const w = {
    told: [] as boolean[],
    next: new Promise<boolean>((r) => {
      resolve = r;
    }),
    onSlot(granted: boolean) {
      w.told.push(granted);
      resolve(granted);
    },
  };
  return w;
}

const gate = (over: Partial<ConstructorParameters<typeof UpstreamGate>[0]> = {}) =>
  new UpstreamGate({ slots: 4, queueTimeoutMs: 60_000, queueLimit: 10, tenantSharePercent: 100, ...over });

describe('UpstreamGate', () => {
  it('hands out free slots at once, queues beyond them, and passes a released slot to the longest waiter', () => {
    const g = gate({ slots: 2 });
    expect(g.acquire('t1', 'p', waiter())).toBe(Acquired.Taken);
    expect(g.acquire('t2', 'p', waiter())).toBe(Acquired.Taken);
    const [a, b] = [waiter(), waiter()];
    expect(g.acquire('t3', 'p', a)).toBe(Acquired.Queued);
    expect(g.acquire('t4', 'p', b)).toBe(Acquired.Queued);
    expect(g).toMatchObject({ active: 2, waiting: 2 });
    g.release('t1', 'p');
    expect(a.told).toEqual([true]);
    expect(b.told).toEqual([]);
    expect(g).toMatchObject({ active: 2, waiting: 1 });
    g.release('t2', 'p');
    g.release('t3', 'p');
    g.release('t4', 'p');
    expect(g).toMatchObject({ active: 0, waiting: 0 });
    g.close();
  });

  it('counts a tenant’s waiting requests against its share, and frees the share on release, cancel and timeout', async () => {
    const g = gate({ slots: 4, tenantSharePercent: 50, queueTimeoutMs: 20 });
    expect(g.shareCap).toBe(2);
    expect(g.acquire('hog', 'p1', waiter())).toBe(Acquired.Taken);
    expect(g.acquire('hog', 'p1', waiter())).toBe(Acquired.Taken);
    expect(g.acquire('hog', 'p1', waiter())).toBe(Acquired.OverShare);
    // Another token of the same project: the project's share is used up too.
    expect(g.acquire('other', 'p1', waiter())).toBe(Acquired.OverShare);
    expect(g.acquire('a', 'p2', waiter())).toBe(Acquired.Taken);
    expect(g.acquire('b', 'p3', waiter())).toBe(Acquired.Taken);
    const queued = waiter();
    expect(g.acquire('c', 'p2', queued)).toBe(Acquired.Queued);
    // p2 holds one and waits for one: its share is full although only one slot is its.
    expect(g.acquire('d', 'p2', waiter())).toBe(Acquired.OverShare);
    expect(await queued.next).toBe(false); // timed out
    expect(g.waiting).toBe(0);
    const again = waiter();
    expect(g.acquire('d', 'p2', again)).toBe(Acquired.Queued);
    expect(g.cancel(again)).toBe(true);
    expect(g.cancel(again)).toBe(false);
    g.release('hog', 'p1');
    expect(g.acquire('other', 'p1', waiter())).toBe(Acquired.Taken);
    g.close();
  });

  it('refuses to queue when the queue is full, when waiting is off, and after close', () => {
    for (const over of [{ queueLimit: 1 }, { queueLimit: 0 }, { queueTimeoutMs: 0 }]) {
      const g = gate({ slots: 1, ...over });
      g.acquire('t', 'p', waiter());
      const first = g.acquire('t', 'p', waiter());
      if (over.queueLimit === 1) {
        expect(first).toBe(Acquired.Queued);
        expect(g.acquire('t', 'p', waiter())).toBe(Acquired.Full);
      } else expect(first).toBe(Acquired.Full);
      g.close();
    }
    const g = gate({ slots: 1 });
    g.acquire('t', 'p', waiter());
    const w = waiter();
    g.acquire('t', 'p', w);
    g.close();
    expect(w.told).toEqual([false]);
    expect(g.acquire('t', 'p', waiter())).toBe(Acquired.Full);
  });

  it('times waits out in arrival order with one timer', async () => {
    const g = gate({ slots: 1, queueTimeoutMs: 15 });
    g.acquire('t', 'p', waiter());
    const ws = [waiter(), waiter(), waiter()];
    for (const w of ws) expect(g.acquire('t', 'p', w)).toBe(Acquired.Queued);
    const order: number[] = [];
    await Promise.all(ws.map((w, i) => w.next.then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2]);
    expect(ws.map((w) => w.told)).toEqual([[false], [false], [false]]);
    g.close();
  });
});

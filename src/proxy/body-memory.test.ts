import { describe, expect, it } from 'vitest';
import { BodyMemory } from './body-memory.js';
import { serverRequestTimeoutMs } from './body-watch.js';

const code = (m: BodyMemory, token: string, project: string, bytes: number) =>
  m.reserve(token, project, bytes)?.code ?? 'ok';

describe('BodyMemory', () => {
  it("refuses past a token's or project's share (429) and past the whole (503), charging nothing then", () => {
    const m = new BodyMemory(100, 50);
    expect(code(m, 't1', 'p1', 30)).toBe('ok');
    expect(code(m, 't1', 'p1', 30)).toBe('concurrency_limit_exceeded');
    expect(code(m, 't2', 'p1', 30)).toBe('concurrency_limit_exceeded');
    expect(code(m, 't3', 'p2', 50)).toBe('ok');
    expect(code(m, 't4', 'p3', 30)).toBe('server_busy');
    expect(m.held).toBe(80);
    m.release('t1', 'p1', 30);
    expect(code(m, 't2', 'p1', 30)).toBe('ok');
    m.release('t2', 'p1', 30);
    m.release('t3', 'p2', 50);
    expect(m.held).toBe(0);
  });

  it('lets in a body larger than a share or the whole when nothing else is held: settings never refuse one for good', () => {
    const m = new BodyMemory(100, 10);
    expect(code(m, 't1', 'p1', 500)).toBe('ok');
    expect(code(m, 't2', 'p2', 1)).toBe('server_busy');
    m.release('t1', 'p1', 500);
    expect(code(m, 't2', 'p2', 20)).toBe('ok');
  });

  it('with no bound (0) counts what is held and refuses nothing', () => {
    const m = new BodyMemory(0, 25);
    for (let i = 0; i < 10; i++) expect(code(m, 't', 'p', 1 << 24)).toBe('ok');
    expect(m.held).toBe(10 << 24);
  });
});

describe("Node's request timeout", () => {
  it("stays above the body's bound plus the headers' time, never under Node's 300 s, and is lifted with it", () => {
    expect(serverRequestTimeoutMs(300_000, 60_000)).toBe(370_000);
    expect(serverRequestTimeoutMs(1_000, 60_000)).toBe(300_000);
    expect(serverRequestTimeoutMs(0, 60_000)).toBe(0);
  });
});

#!/usr/bin/env node
import path from 'node:path';
/**
 * `npm run bench:retries [-- --requests 200000]`: the CPU that retries and
 * failover (src/proxy/failover.ts) add to a request that does not fail, in isolation from the
 * machine's noise. It loads the built handlers (dist/) and drives a non-streamed chat completion's
 * dispatch callbacks (request start, 200 head, body, end) through the usage capture as before
 * retries, and through the failover decorator around it, with its construction and the retry
 * budget's deposit, in alternating rounds; a second "before" column gives the method's spread.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Failover as FailoverClass } from '../src/proxy/failover.js';
import type { Retries as RetriesClass } from '../src/proxy/retry-policy.js';
import type { UsageCapture as UsageCaptureClass } from '../src/proxy/usage-capture.js';
import { ROOT } from './harness-stack.js';

const dist = (file: string) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' } } });
  const n = Number(values.requests);
  const { UsageCapture } = (await dist('proxy/usage-capture.js')) as { UsageCapture: typeof UsageCaptureClass };
  const { Failover } = (await dist('proxy/failover.js')) as { Failover: typeof FailoverClass };
  const { Retries } = (await dist('proxy/retry-policy.js')) as { Retries: typeof RetriesClass };

  const noop = () => {};
  const sink = { onRequestStart: noop, onResponseStart: noop, onResponseData: noop, onResponseEnd: noop };
  const key = { id: 'k1', origin: 'http://upstream', prefix: '' };
  const pr = {
    req: { headers: { 'content-type': 'application/json' } },
    identity: { upstreamKeys: [key], retryServerErrors: false },
    upstreamKey: key,
    retries: 0,
  };
  const retries = new Retries(
    {
      maxAttempts: 3,
      backoffMs: 100,
      backoffMaxMs: 2000,
      timeoutMs: 10_000,
      budgetPercent: 10,
      budgetMinPerSecond: 10,
    },
    Date.now,
  );
  const body = Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    }),
  );
  const controller = {} as never;

  const one = (withFailover: boolean) => {
    const capture = new UsageCapture(sink, 0);
    let h: UsageCaptureClass | FailoverClass = capture;
    if (withFailover) {
      retries.budget.deposit();
      h = new Failover(
        capture,
        { answered: noop } as never,
        pr as never,
        {} as never,
        { retries } as never,
        {} as never,
      );
    }
    h.onRequestStart(controller, {});
    h.onResponseStart(controller, 200, { 'content-type': 'application/json', 'content-length': String(body.length) });
    h.onResponseData(controller, body);
    h.onResponseEnd(controller, {});
    capture.usage();
  };
  const round = (withFailover: boolean) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) one(withFailover);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / n;
  };
  for (let i = 0; i < 3; i++) {
    round(false);
    round(true);
  }
  const before: number[] = [];
  const again: number[] = [];
  const after: number[] = [];
  for (let r = 0; r < 10; r++) {
    // Alternating order, so drift in the machine's speed falls on both sides.
    if (r % 2 === 1) after.push(round(true));
    before.push(round(false));
    again.push(round(false));
    if (r % 2 === 0) after.push(round(true));
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1] as number;
  const b = med(before);
  console.log(`before retries:      ${b.toFixed(0)} ns/request`);
  console.log(`before, again:       ${med(again).toFixed(0)} ns/request (${(med(again) / b).toFixed(3)}×: the spread)`);
  console.log(
    `with the failover:   ${med(after).toFixed(0)} ns/request (${(med(after) / b).toFixed(3)}×, +${(med(after) - b).toFixed(0)} ns)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

import { STREAM_PACING } from './harness-stack.js';

/** One measurement of `npm run bench:floor`: a request and a concurrency, every target alike. */
export interface Cell {
  name: string;
  /** What is sent how, e.g. `chat, c=32`; with `unit`, the row title in the report. */
  label: string;
  unit: string;
  connections: number;
  /** POSTed to CHAT_PATH by both load generators, byte for byte. */
  body: string;
  headers: Readonly<Record<string, string>>;
  /** Completed requests (streams) per second, or the median latency. */
  reports: 'rate' | 'p50';
}

export const cellTitle = (c: Cell): string => `${c.label}, ${c.unit}`;

export const CHAT_PATH = '/v1/chat/completions';

// A fixed prompt (the load generator's default is random words): wrk sends one body for all requests.
const chat = (stream: boolean) =>
  JSON.stringify({
    model: 'gpt-4o-mini',
    ...(stream ? { stream: true } : {}),
    messages: [{ role: 'user', content: 'measure the proxy against its floor with this short fixed prompt' }],
  });

export const CELLS: readonly Cell[] = [
  {
    name: 'chat-c32',
    label: 'chat, c=32',
    unit: 'req/s',
    connections: 32,
    body: chat(false),
    headers: {},
    reports: 'rate',
  },
  {
    name: 'stream-c32',
    label: 'streamed chat, c=32',
    unit: 'streams/s',
    connections: 32,
    body: chat(true),
    headers: STREAM_PACING,
    reports: 'rate',
  },
  {
    name: 'chat-c1',
    label: 'chat, c=1',
    unit: 'p50 ms',
    connections: 1,
    body: chat(false),
    headers: {},
    reports: 'p50',
  },
];

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { acceptedEvents, FAST, ids, jsonLines, SECRET, type ShippedEvent, traffic } from './helpers.js';

const OTLP_KEY = 'otlp-key-3c9e1f7a5b';
registerSecret(OTLP_KEY);

interface OtlpValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: OtlpValue;
  attributes: { key: string; value: OtlpValue }[];
}

/** The log records of an OTLP/HTTP JSON export request, its shape checked on the way. */
function otlpRecords(body: string): OtlpRecord[] {
  const req = JSON.parse(body) as {
    resourceLogs: {
      resource: { attributes: { key: string; value: OtlpValue }[] };
      scopeLogs: { scope: { name: string; version: string }; logRecords: OtlpRecord[] }[];
    }[];
  };
  expect(req.resourceLogs).toHaveLength(1);
  const [rl] = req.resourceLogs;
  if (!rl) throw new Error('no resourceLogs');
  const resource = Object.fromEntries(rl.resource.attributes.map((a) => [a.key, a.value]));
  expect(resource['service.name']).toEqual({ stringValue: 'llm-proxy' });
  expect(resource['service.version']?.stringValue).toMatch(/^\d+\.\d+\.\d+/);
  expect(rl.scopeLogs[0]?.scope.name).toBe('llm-proxy.shipping');
  const records = rl.scopeLogs.flatMap((s) => s.logRecords);
  for (const r of records) {
    expect(r.timeUnixNano).toMatch(/^\d{19}$/);
    expect(r.observedTimeUnixNano).toMatch(/^\d{19}$/);
    expect([9, 13]).toContain(r.severityNumber);
    expect(typeof r.body.stringValue).toBe('string');
    // Each AnyValue holds exactly one typed member; int64 is a decimal string in OTLP/JSON.
    for (const { value } of r.attributes) {
      expect(Object.keys(value)).toHaveLength(1);
      if (value.intValue !== undefined) expect(value.intValue).toMatch(/^-?\d+$/);
      if (value.doubleValue !== undefined) expect(typeof value.doubleValue).toBe('number');
    }
  }
  return records;
}

const attr = (r: OtlpRecord, key: string) => r.attributes.find((a) => a.key === key)?.value;

/** All three sinks at once: each gets every event, on its own, whatever the others do. */
describe('OTLP logs and file sinks, beside a webhook that is down', () => {
  let otlp: Receiver;
  let hook: Receiver;
  let st: ProxyStack;
  let dir: string;
  let file: string;
  const fileEvents = () => jsonLines<ShippedEvent>(file);
  const otlpAll = () => otlp.accepted().flatMap((r) => otlpRecords(r.body));

  beforeAll(async () => {
    otlp = await startReceiver();
    hook = await startReceiver('reset');
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-ship-file-'));
    file = path.join(dir, 'events', 'usage.jsonl');
    st = await startProxyStack({
      env: {
        ...FAST,
        SHIPPING_OTLP_LOGS_ENDPOINT: `${otlp.url}/`,
        SHIPPING_OTLP_LOGS_HEADERS: `authorization=Bearer%20${OTLP_KEY},x-tenant=acme`,
        SHIPPING_FILE: file,
        SHIPPING_WEBHOOK_URL: hook.url,
        SHIPPING_WEBHOOK_SECRET: SECRET,
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
    await otlp?.close();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts valid OTLP JSON to <endpoint>/v1/logs and writes 0600 JSON lines, while the webhook waits', async () => {
    await traffic(st.client, 6);
    const rows = await st.waitUsage(st.tokenId, 6);
    const expected = new Set(rows.map((r) => r.request_id));
    await until(() => otlpAll().length >= 6 && fileEvents().length >= 6);

    for (const r of otlp.requests) {
      expect(r.path).toBe('/v1/logs');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers.authorization).toBe(`Bearer ${OTLP_KEY}`);
      expect(r.headers['x-tenant']).toBe('acme');
    }
    const records = otlpAll();
    expect(new Set(records.map((r) => attr(r, 'id')?.stringValue))).toEqual(expected);
    for (const row of rows) {
      const r = records.find((x) => attr(x, 'id')?.stringValue === row.request_id) as OtlpRecord;
      expect(attr(r, 'event.name')).toEqual({ stringValue: 'llm-proxy.usage' });
      expect(attr(r, 'schema')).toEqual({ stringValue: 'llm-proxy.usage/v1' });
      expect(attr(r, 'token_id')).toEqual({ stringValue: st.tokenId });
      expect(attr(r, 'status')).toEqual({ intValue: String(row.status) });
      expect(attr(r, 'stream')).toEqual({ boolValue: row.is_stream === 1 });
      expect(attr(r, 'duration_ms')).toEqual({ doubleValue: row.duration_ms });
      expect(attr(r, 'bytes_out')).toEqual({ intValue: String(row.bytes_out) });
      expect(attr(r, 'total_tokens')).toEqual({ intValue: String(row.total_tokens) });
      // Null fields are left out rather than sent as empty values.
      if (row.error === null) expect(attr(r, 'error')).toBeUndefined();
      expect(r.timeUnixNano).toBe(`${row.created_at}000000`);
      expect(r.body.stringValue).toBe(`${row.method} ${row.path} ${row.status}`);
    }

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = fileEvents();
    expect(ids(lines)).toEqual(expected);
    for (const e of lines) expect(e.schema).toBe('llm-proxy.usage/v1');
    // Ids only: never the proxy token or the upstream key, in any sink.
    for (const text of [readFileSync(file, 'utf8'), ...otlp.requests.map((r) => r.body)]) {
      expect(text).not.toContain(st.token);
      expect(text).not.toContain(UPSTREAM_KEY);
    }

    // The webhook has every event still waiting; when it comes back it gets them all.
    // A receiver holds a batch before its answer reaches the sink: wait for the sinks to hear it.
    const readHealth = async () => (await (await fetch(`${st.url}/health`)).json()) as { sinks: Record<string, any> };
    let health = await readHealth();
    await until(async () => {
      health = await readHealth();
      return health.sinks.otlp.queue_depth === 0 && health.sinks.file.queue_depth === 0;
    });
    expect(Object.keys(health.sinks).sort()).toEqual(['file', 'otlp', 'webhook']);
    expect(health.sinks.webhook.queue_depth).toBe(6);
    // The connection is cut as it opens: how the client notices depends on timing.
    expect(health.sinks.webhook.last_error).toMatch(/^(connection closed|ECONNRESET|EPIPE)$/);
    expect(health.sinks.otlp).toMatchObject({ queue_depth: 0, last_error: null });
    expect(health.sinks.file).toMatchObject({ queue_depth: 0, last_error: null });
    hook.mode = 'ok';
    await until(() => ids(acceptedEvents(hook)).size === 6);
    expect(ids(acceptedEvents(hook))).toEqual(expected);
    expect(st.s.logs()).not.toContain(OTLP_KEY);
  });
});

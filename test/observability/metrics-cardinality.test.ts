import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/** A client that sends 10,000 made-up model names cannot grow the metric series without bound. */
describe('metric labels under hostile model names', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(() => st.stop());

  it('keeps at most METRICS_MAX_LABEL_VALUES models (200) plus other, and counts every request', async () => {
    const total = 10_000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const res = await st.proxy('/v1/chat/completions', json({ model: `made-up-model-${i}`, messages: [] }));
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    await st.usage();

    const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
    const families = parsePrometheusTextFormat(await res.text()); // a real parser: throws on invalid text
    const requests = families.find((f) => f.name === 'llm_proxy_requests_total');
    const models = new Set(requests?.metrics.map((m) => m.labels?.model));
    expect(models.size).toBeLessThanOrEqual(201);
    expect(models.has('other')).toBe(true);
    const counted = (requests?.metrics ?? []).reduce((sum, m) => sum + Number(m.value), 0);
    expect(counted).toBe(total);
    for (const f of families) expect(f.metrics.length, f.name).toBeLessThanOrEqual(4 * 201);
    // 10,000 real requests: about 5 s alone, and several times that on a loaded two-core machine.
  });
});

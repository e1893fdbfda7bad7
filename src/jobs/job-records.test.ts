import { describe, expect, it } from 'vitest';
import { emptyUsage, readBody } from '../proxy/usage-extract.js';
import type { TrackedJobRow } from '../store/schema.js';
import { PricingTable } from '../usage/pricing.js';
import { batchLineRecord, responseRecord } from './job-records.js';

const pricing = PricingTable.load();
const job = (kind: string, endpoint: string): TrackedJobRow => ({
  id: kind === 'batch' ? 'batch_1' : 'resp_1',
  kind,
  token_id: 't',
  project_id: 'p',
  upstream_key_id: 'k',
  endpoint,
  state: 'recording',
  upstream_status: 'completed',
  next_poll_at: 0,
  attempts: 0,
  deadline_at: 0,
  recorded_at: 1,
  records: 0,
  cost_nano_usd: 0,
  error: null,
  created_at: 0,
  updated_at: 0,
});

describe("a job's records carry every billed unit, whichever path read the usage", () => {
  it('a finished background response: its tool calls and tier priced and recorded', () => {
    const body = {
      object: 'response',
      id: 'resp_1',
      status: 'completed',
      model: 'gpt-4.1-mini',
      service_tier: 'flex',
      output: [{ type: 'web_search_call', id: 'ws_1', status: 'completed' }],
      usage: { input_tokens: 100, output_tokens: 20, total_tokens: 120 },
    };
    const u = emptyUsage();
    readBody(body, u);
    const rec = responseRecord(job('response', '/v1/responses'), u, 1, pricing);
    const tokensAlone = pricing.cost('gpt-4.1-mini', { ...u, units: null });
    expect(rec).toMatchObject({ serviceTier: 'flex', billedUnits: JSON.stringify({ web_search: 1 }) });
    // The call's fee on top of the tokens at the flex tier.
    expect(rec?.costNanoUsd).toBe(pricing.cost('gpt-4.1-mini', u));
    expect(rec?.costNanoUsd).toBeGreaterThan(tokensAlone ?? 0);
  });

  it('a batch line: recorded at the batch tier it is priced at', () => {
    const line = JSON.stringify({
      custom_id: 'a',
      response: {
        status_code: 200,
        request_id: 'req_1',
        body: { model: 'gpt-4o-mini', service_tier: 'default', usage: { prompt_tokens: 10, completion_tokens: 5 } },
      },
    });
    const rec = batchLineRecord(job('batch', '/v1/chat/completions'), 'k', line, 0, 1, pricing);
    expect(rec).toMatchObject({ serviceTier: 'batch', upstreamRequestId: 'req_1', jobId: 'batch_1' });
    const live = emptyUsage();
    readBody({ model: 'gpt-4o-mini', usage: { prompt_tokens: 10, completion_tokens: 5 } }, live);
    expect(rec?.costNanoUsd).toBe(pricing.cost('gpt-4o-mini', { ...live, serviceTier: 'batch' }));
  });
});

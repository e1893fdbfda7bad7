import { uuidv7 } from '../../src/crypto/ids.js';
import type { NewProjectRow, NewTokenRow, NewUsageRow } from '../../src/store/schema.js';

/** Row builders for store-level tests: valid defaults (unique name and hash), any field overridden. */
const CREATED = 1_700_000_000_000;
let n = 0;

export const projectRow = (over: Partial<NewProjectRow> = {}): NewProjectRow => ({
  id: uuidv7(),
  name: `p${++n}`,
  api_key_encrypted: 'v1:k:iv:tag:ct',
  api_key_hint: 'sk-…abcd',
  base_url: null,
  is_active: 1,
  created_at: CREATED,
  updated_at: CREATED,
  ...over,
});

export const tokenRow = (projectId: string, over: Partial<NewTokenRow> = {}): NewTokenRow => ({
  id: uuidv7(),
  project_id: projectId,
  token_hash: `hash-${++n}-${Math.random()}`,
  token_hint: 'sk-llmp-…abcd',
  name: null,
  is_active: 1,
  expires_at: null,
  revoked_at: null,
  max_requests: null,
  last_used_at: null,
  created_at: CREATED,
  updated_at: CREATED,
  ...over,
});

/** A reported chat completion's usage record of this token and project; its id doubles as the request id. */
export const usageRow = (tokenId: string, projectId: string, over: Partial<NewUsageRow> = {}): NewUsageRow => {
  const id = over.id ?? uuidv7();
  return {
    id,
    request_id: id,
    token_id: tokenId,
    project_id: projectId,
    method: 'POST',
    path: '/v1/chat/completions',
    model: 'gpt-4o',
    status: 200,
    is_stream: 0,
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    cached_tokens: null,
    reasoning_tokens: null,
    finish_reason: 'stop',
    upstream_ms: 1.5,
    ttfb_ms: 2.25,
    duration_ms: 3.125,
    bytes_in: 100,
    bytes_out: 200,
    error: null,
    cost_micro_usd: 7,
    usage_status: 'reported',
    created_at: CREATED,
    ...over,
  };
};

import { uuidv7 } from '../../src/crypto/ids.js';
import type { Db } from '../../src/store/database.js';
import type { NewProjectRow, NewTokenRow, NewUsageRow } from '../../src/store/schema.js';
import { toUsageRow, type UsageRecord } from '../../src/store/usage-record.js';

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

/** Inserts a project and a token of it (the owners usage records need); returns their ids. */
export async function insertProjectAndToken(db: Db): Promise<{ projectId: string; tokenId: string }> {
  const p = projectRow();
  await db.insertInto('projects').values(p).execute();
  const t = tokenRow(p.id);
  await db.insertInto('tokens').values(t).execute();
  return { projectId: p.id, tokenId: t.id };
}

/** A reported chat completion's usage row (usageRecord as the store maps it); its id doubles as the request id. */
export const usageRow = (tokenId: string, projectId: string, over: Partial<NewUsageRow> = {}): NewUsageRow => {
  const row = toUsageRow(usageRecord(tokenId, projectId, over.id === undefined ? {} : { id: over.id }));
  return { ...row, ...over, request_id: over.request_id ?? row.id };
};

/** A reported chat completion as the proxy hands it to the usage writer (the domain record). */
export const usageRecord = (tokenId: string, projectId: string, over: Partial<UsageRecord> = {}): UsageRecord => ({
  id: uuidv7(),
  tokenId,
  projectId,
  method: 'POST',
  path: '/v1/chat/completions',
  model: 'gpt-4o',
  status: 200,
  stream: false,
  promptTokens: 10,
  completionTokens: 5,
  totalTokens: 15,
  cachedTokens: null,
  reasoningTokens: null,
  finishReason: 'stop',
  upstreamMs: 1.5,
  ttfbMs: 2.25,
  durationMs: 3.125,
  bytesIn: 100,
  bytesOut: 200,
  error: null,
  costNanoUsd: 7,
  usageStatus: 'reported',
  createdAt: CREATED,
  upstreamKeyId: null,
  retries: 0,
  servedFrom: null,
  serviceTier: null,
  billedUnits: null,
  upstreamRequestId: null,
  ...over,
});

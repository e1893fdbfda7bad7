import { uuidv7 } from '../../src/crypto/ids.js';
import type { NewProjectRow, NewTokenRow } from '../../src/store/schema.js';

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

import { safeHint } from '../crypto/secrets.js';
import { toIso } from '../shared/clock.js';
import type { ProjectKeyRow } from '../store/schema.js';
import type { AuthStyle } from './upstream-key.js';

/** What the API shows of a project's upstream key: a masked hint, never the key. */
export interface ProjectKeyView {
  id: string;
  project_id: string;
  name: string;
  api_key_hint: string;
  base_url: string | null;
  auth_style: AuthStyle;
  weight: number;
  enabled: boolean;
  http2: boolean;
  created_at: string;
  updated_at: string;
}

export function toProjectKeyView(row: ProjectKeyRow): ProjectKeyView {
  return {
    id: row.id,
    project_id: row.project_id,
    name: row.name,
    api_key_hint: safeHint(row.key_hint),
    base_url: row.base_url,
    auth_style: row.auth_style as AuthStyle,
    weight: row.weight,
    enabled: row.enabled === 1,
    http2: row.http2 === 1,
    created_at: toIso(row.created_at) as string,
    updated_at: toIso(row.updated_at) as string,
  };
}

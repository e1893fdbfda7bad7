import type { Kysely } from 'kysely';
import { uuidv7 } from '../../crypto/ids.js';

/**
 * Key pools: a project holds several upstream keys (src/store/project-keys-repo.ts). Each
 * project's existing key becomes its key "primary", copied as stored (still encrypted: the
 * migration never sees a plaintext key) with the project's hint.
 *
 * `projects.api_key_encrypted` and `api_key_hint` stay, and the projects layer keeps them a copy
 * of the project's first key: migrations only add (docs/operations.md#upgrades), so an older
 * version serving this database during a rolling deploy still forwards with a working key, and
 * the project's `api_key_hint` keeps meaning "the first key" as the API has always shown it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // Opaque to the store: encrypted by the projects layer, like projects.api_key_encrypted.
    .addColumn('key_encrypted', 'text', (c) => c.notNull())
    .addColumn('key_hint', 'text', (c) => c.notNull())
    // Null: the project's base_url, else the proxy's default upstream (OPENAI_API_URL).
    .addColumn('base_url', 'text')
    // 'bearer' (Authorization: Bearer <key>) or 'api-key' (api-key: <key>, Azure OpenAI).
    .addColumn('auth_style', 'text', (c) => c.notNull().defaultTo('bearer'))
    .addColumn('weight', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('project_keys_project_name_uq', ['project_id', 'name'])
    .execute();

  // Which key a request was sent with (null for requests not sent upstream, and for older records).
  await db.schema.alterTable('usage_records').addColumn('upstream_key_id', 'text').execute();

  // biome-ignore lint/suspicious/noExplicitAny: the migration runs on a database of any schema
  const anyDb = db as Kysely<any>;
  const projects: { id: string; api_key_encrypted: string; api_key_hint: string; created_at: number }[] = await anyDb
    .selectFrom('projects')
    .select(['id', 'api_key_encrypted', 'api_key_hint', 'created_at'])
    .execute();
  const now = Date.now();
  for (const p of projects) {
    await anyDb
      .insertInto('project_keys')
      .values({
        id: uuidv7(),
        project_id: p.id,
        name: 'primary',
        key_encrypted: p.api_key_encrypted,
        key_hint: p.api_key_hint,
        base_url: null,
        auth_style: 'bearer',
        weight: 1,
        enabled: 1,
        // A project's keys are ordered by created_at, then id: the copied key stays its first.
        created_at: Number(p.created_at),
        updated_at: now,
      })
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('usage_records').dropColumn('upstream_key_id').execute();
  await db.schema.dropTable('project_keys').execute();
}

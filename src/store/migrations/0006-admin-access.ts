import type { Kysely } from 'kysely';

/**
 * Sign-in to the management API (the admin UI): admin users with scrypt password hashes, and
 * server-side sessions, so every instance on the database sees a sign-in and a sign-out at once.
 * A session's cookie value is stored only as its SHA-256; `id` is a public UUIDv7 by which admins
 * list and end sessions.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('admin_users')
    .addColumn('id', 'text', (c) => c.primaryKey()) // UUIDv7
    .addColumn('username', 'text', (c) => c.notNull().unique()) // lower-cased
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull()) // scrypt$N$r$p$salt$hash (access/passwords.ts)
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_sign_in_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('admin_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey()) // UUIDv7, public
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique()) // SHA-256 of the cookie value
    .addColumn('secret_hint', 'text', (c) => c.notNull())
    // An admin_users id, `management-token`, or `oidc:<subject>`: not a foreign key.
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull()) // token | password | oidc
    .addColumn('client_ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull()) // absolute expiry
    .execute();
  await db.schema.createIndex('admin_sessions_user_idx').on('admin_sessions').column('user_id').execute();
  await db.schema.createIndex('admin_sessions_expires_idx').on('admin_sessions').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('admin_sessions').execute();
  await db.schema.dropTable('admin_users').execute();
}

import { type AuditContext, created, deleted, diff } from '../audit/audit-event.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { uuidv7 } from '../crypto/ids.js';
import { errors } from '../errors.js';
import { type Clock, toIso } from '../shared/clock.js';
import type { AdminUsersRepo } from '../store/admin-users-repo.js';
import type { PageRequest } from '../store/pagination.js';
import type { AdminUserPatch, AdminUserRow } from '../store/schema.js';
import { isUniqueViolation } from '../store/store-errors.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';
import type { Role } from './roles.js';
import { isRole } from './roles.js';
import { normalizeUsername, passwordProblem, usernameProblem } from './user-rules.js';

/** What the API shows of an admin user: never the password or its hash. */
export interface UserView {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface NewUser {
  username: string;
  role: Role;
  password: string;
  disabled?: boolean | undefined;
}

export interface UserChanges {
  username?: string | undefined;
  role?: Role | undefined;
  password?: string | undefined;
  disabled?: boolean | undefined;
}

/** Why a password sign-in failed (recorded in the audit trail, never told to the caller). */
export type PasswordRefusal = 'unknown_user' | 'wrong_password' | 'disabled';

export const toUserView = (r: AdminUserRow): UserView => ({
  id: r.id,
  username: r.username,
  role: isRole(r.role) ? r.role : 'viewer',
  disabled: r.disabled === 1,
  last_sign_in_at: toIso(r.last_sign_in_at),
  created_at: toIso(r.created_at) as string,
  updated_at: toIso(r.updated_at) as string,
});

/** The fields an audit event records of a user. */
const auditFields = (v: UserView) => ({ username: v.username, role: v.role, disabled: v.disabled });

function checked(username: string): string {
  const name = normalizeUsername(username);
  const problem = usernameProblem(name);
  if (problem) throw errors.validation(`username: ${problem}`, 'username');
  return name;
}

function checkedPassword(password: string): string {
  const problem = passwordProblem(password);
  if (problem) throw errors.validation(`password: ${problem}`, 'password');
  return password;
}

/**
 * Admin users: who may sign in with a password, and with which role. Every change is audited in
 * its own transaction, and reaches the user's sessions in the same one: a new role applies to them
 * at once; disabling, deleting or a new password ends them.
 */
export class UsersService {
  constructor(
    private readonly repo: AdminUsersRepo,
    private readonly audit: AuditTrail,
    private readonly now: Clock,
  ) {}

  async create(input: NewUser, ctx: AuditContext): Promise<UserView> {
    const username = checked(input.username);
    const hash = await hashPassword(checkedPassword(input.password));
    const now = this.now();
    try {
      return await this.audit.change(ctx, async (tx) => {
        const view = toUserView(
          await tx.repos.users.insert({
            id: uuidv7(now),
            username,
            role: input.role,
            password_hash: hash,
            disabled: input.disabled ? 1 : 0,
            last_sign_in_at: null,
            created_at: now,
            updated_at: now,
          }),
        );
        tx.record({
          action: 'user.created',
          target: { type: 'user', id: view.id },
          changes: created(auditFields(view)),
        });
        return view;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`A user named "${username}" already exists.`);
      throw err;
    }
  }

  async list(page: PageRequest): Promise<{ data: UserView[]; next_cursor: string | null }> {
    const res = await this.repo.list(page);
    return { data: res.rows.map(toUserView), next_cursor: res.nextCursor };
  }

  async get(id: string): Promise<UserView> {
    const row = await this.repo.findById(id);
    if (!row) throw errors.notFound('user', id);
    return toUserView(row);
  }

  /** The user of a username (as typed: it is normalised), for the CLI. */
  async byUsername(username: string): Promise<UserView> {
    const row = await this.repo.findByUsername(normalizeUsername(username));
    if (!row) throw errors.userNotFound(normalizeUsername(username));
    return toUserView(row);
  }

  async anyEnabled(): Promise<boolean> {
    return this.repo.anyEnabled();
  }

  async update(id: string, changes: UserChanges, ctx: AuditContext): Promise<UserView> {
    const patch: AdminUserPatch = { updated_at: this.now() };
    if (changes.username !== undefined) patch.username = checked(changes.username);
    if (changes.role !== undefined) patch.role = changes.role;
    if (changes.disabled !== undefined) patch.disabled = changes.disabled ? 1 : 0;
    if (changes.password !== undefined) patch.password_hash = await hashPassword(checkedPassword(changes.password));
    try {
      return await this.audit.change(ctx, async (tx) => {
        const before = await tx.repos.users.findById(id);
        if (!before) throw errors.notFound('user', id);
        const row = (await tx.repos.users.update(id, patch)) as AdminUserRow;
        const [was, now] = [toUserView(before), toUserView(row)];
        const changed = diff(auditFields(was), auditFields(now));
        if (changed) tx.record({ action: 'user.updated', target: { type: 'user', id }, changes: changed });
        let sessionsEnded = 0;
        if (now.disabled || changes.password !== undefined) sessionsEnded = await tx.repos.sessions.deleteByUser(id);
        else if (was.role !== now.role || was.username !== now.username)
          await tx.repos.sessions.updateUser(id, { role: now.role, username: now.username });
        if (changes.password !== undefined)
          tx.record({
            action: 'user.password_changed',
            target: { type: 'user', id },
            details: { username: now.username, sessions_ended: sessionsEnded },
          });
        return now;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw errors.conflict(`A user named "${patch.username}" already exists.`);
      throw err;
    }
  }

  /** Deletes a user and ends their sessions. */
  async delete(id: string, ctx: AuditContext): Promise<void> {
    await this.audit.change(ctx, async (tx) => {
      const before = await tx.repos.users.findById(id);
      if (!before || !(await tx.repos.users.delete(id))) throw errors.notFound('user', id);
      const sessionsEnded = await tx.repos.sessions.deleteByUser(id);
      tx.record({
        action: 'user.deleted',
        target: { type: 'user', id },
        changes: deleted(auditFields(toUserView(before))),
        details: { sessions_ended: sessionsEnded },
      });
    });
  }

  /**
   * Checks a username and password. An unknown username costs the same scrypt work as a known one,
   * so response times do not tell which usernames exist.
   */
  async verify(
    username: string,
    password: string,
  ): Promise<{ user: UserView } | { refused: PasswordRefusal; user?: UserView }> {
    const row = await this.repo.findByUsername(normalizeUsername(username));
    if (!row) {
      await verifyPassword(password, await decoyHash());
      return { refused: 'unknown_user' };
    }
    const ok = await verifyPassword(password, row.password_hash);
    const user = toUserView(row);
    if (!ok) return { refused: 'wrong_password', user };
    if (user.disabled) return { refused: 'disabled', user };
    return { user };
  }
}

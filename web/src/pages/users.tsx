import { useState } from 'preact/hooks';
import type { Role } from '../api/auth';
import { api, ok } from '../api/client';
import type { paths } from '../api/schema';
import {
  Badge,
  Button,
  Card,
  Checkbox,
  Confirm,
  Dialog,
  Empty,
  ErrorNote,
  Loading,
  PageHead,
  SelectField,
  TableWrap,
  TextField,
  toast,
} from '../components/ui';
import { relative } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { useSubmit } from '../lib/hooks.js';

/** Admin users and active sessions (`/manage/users`, `/manage/sessions`; admins only, enforced by the API). */
type User = paths['/manage/users']['get']['responses'][200]['content']['application/json']['data'][number];
type Session = paths['/manage/sessions']['get']['responses'][200]['content']['application/json']['data'][number];

const METHOD: Record<Session['auth_method'], string> = {
  token: 'management token',
  password: 'password',
  oidc: 'single sign-on',
};

/** The API's rule for usernames (lower-cased by the server). */
const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;

const ROLES: Array<{ value: Role; label: string }> = [
  { value: 'viewer', label: 'Viewer: reads everything but secrets' },
  { value: 'operator', label: 'Operator: also issues, edits and revokes tokens' },
  { value: 'admin', label: 'Admin: everything (projects, keys, pricing, users)' },
];

const ROLE_TONE: Record<Role, 'muted' | 'accent' | 'ok'> = { viewer: 'muted', operator: 'accent', admin: 'ok' };

export function UsersPage() {
  useTitle('Users and sessions');
  const users = useLoad(() => ok(api.GET('/manage/users', { params: { query: { limit: 1000 } } })), []);
  const sessions = useLoad(() => ok(api.GET('/manage/sessions', { params: { query: { limit: 1000 } } })), [], 15_000);
  const [dialog, setDialog] = useState<
    | { kind: 'new' }
    | { kind: 'edit'; user: User }
    | { kind: 'delete'; user: User }
    | { kind: 'end'; session: Session }
    | undefined
  >();
  return (
    <>
      <PageHead title="Users and sessions" sub="Who can sign in, with which role, and who is signed in now.">
        <Button variant="primary" icon="plus" onClick={() => setDialog({ kind: 'new' })}>
          Add user
        </Button>
      </PageHead>
      <div class="stack">
        <Card title="Users" flush>
          <ErrorNote error={users.error} onRetry={users.reload} />
          {!users.data ? (
            <Loading rows={3} label="Loading users" />
          ) : users.data.data.length === 0 ? (
            <Empty icon="users" title="No users yet">
              Add users here or with <code>llm-proxy admin-user add</code>. The management token always works.
            </Empty>
          ) : (
            <TableWrap>
              <table>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Role</th>
                    <th scope="col" class="hide-sm">
                      Last sign-in
                    </th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {users.data.data.map((u) => (
                    <tr key={u.id}>
                      <td class="cell-main">{u.username}</td>
                      <td>
                        <Badge tone={ROLE_TONE[u.role]} plain>
                          {u.role}
                        </Badge>{' '}
                        {u.disabled && <Badge tone="danger">disabled</Badge>}
                      </td>
                      <td class="hide-sm muted">{u.last_sign_in_at ? relative(u.last_sign_in_at) : 'never'}</td>
                      <td class="num">
                        <div class="row">
                          <Button
                            size="sm"
                            onClick={() => setDialog({ kind: 'edit', user: u })}
                            aria-label={`Edit ${u.username}`}
                          >
                            Edit
                          </Button>
                          <Button
                            size="sm"
                            onClick={() => setDialog({ kind: 'delete', user: u })}
                            aria-label={`Remove ${u.username}`}
                          >
                            Remove
                          </Button>
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </Card>
        <Card title="Active sessions" sub="Ending a session signs that browser out at once." flush>
          <ErrorNote error={sessions.error} onRetry={sessions.reload} />
          {!sessions.data ? (
            <Loading rows={3} label="Loading sessions" />
          ) : sessions.data.data.length === 0 ? (
            <Empty icon="users" title="No active sessions" />
          ) : (
            <TableWrap>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Who</th>
                    <th scope="col" class="hide-sm">
                      From
                    </th>
                    <th scope="col">Signed in</th>
                    <th scope="col">Ends</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {sessions.data.data.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <span class="cell-main">{s.user.username}</span>{' '}
                        {s.current && <Badge tone="accent">this browser</Badge>}
                        <div class="cell-sub">
                          {s.user.role} · {METHOD[s.auth_method]} · <code>{s.id_hint}</code>
                        </div>
                      </td>
                      <td class="hide-sm muted">
                        {s.client_ip ?? '–'}
                        {s.user_agent && (
                          // Whole in the page (and in a tooltip), cut by the width with an ellipsis.
                          <div class="cell-sub ellipsis" title={s.user_agent}>
                            {s.user_agent}
                          </div>
                        )}
                      </td>
                      <td class="muted">{relative(s.created_at)}</td>
                      <td class="muted">{relative(s.idle_expires_at ?? s.expires_at)}</td>
                      <td class="num">
                        <Button size="sm" onClick={() => setDialog({ kind: 'end', session: s })}>
                          End
                        </Button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </Card>
      </div>
      {(dialog?.kind === 'new' || dialog?.kind === 'edit') && (
        <UserDialog
          user={dialog.kind === 'edit' ? dialog.user : undefined}
          onClose={() => setDialog(undefined)}
          onSaved={(msg) => {
            setDialog(undefined);
            toast(msg);
            users.reload();
          }}
        />
      )}
      <Confirm
        open={dialog?.kind === 'delete'}
        title={`Remove ${dialog?.kind === 'delete' ? dialog.user.username : ''}?`}
        confirmLabel="Remove user"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          if (dialog?.kind !== 'delete') return;
          await ok(api.DELETE('/manage/users/{id}', { params: { path: { id: dialog.user.id } } }));
          toast(`${dialog.user.username} removed; their sessions ended.`);
          users.reload();
          sessions.reload();
        }}
      >
        They can no longer sign in, and their sessions end now.
      </Confirm>
      <Confirm
        open={dialog?.kind === 'end'}
        title="End this session?"
        confirmLabel="End session"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          if (dialog?.kind !== 'end') return;
          await ok(api.DELETE('/manage/sessions/{id}', { params: { path: { id: dialog.session.id } } }));
          toast('Session ended.');
          sessions.reload();
        }}
      >
        That browser is signed out on its next request.
      </Confirm>
    </>
  );
}

function UserDialog(props: { user?: User | undefined; onClose: () => void; onSaved: (message: string) => void }) {
  const u = props.user;
  const [username, setUsername] = useState(u?.username ?? '');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>(u?.role ?? 'viewer');
  const [disabled, setDisabled] = useState(u?.disabled ?? false);
  const problems = {
    username: u
      ? undefined
      : username.trim() === ''
        ? 'A username is required.'
        : !USERNAME.test(username.trim().toLowerCase())
          ? 'Up to 64 letters, digits and . _ @ + -, starting with a letter or digit.'
          : undefined,
    password:
      password === ''
        ? u
          ? undefined
          : 'A password is required.'
        : password.length < 12
          ? 'At least 12 characters.'
          : password.length > 1024
            ? 'At most 1024 characters.'
            : undefined,
  };
  const { show, busy, error, submit } = useSubmit(
    () => Boolean(problems.username || problems.password),
    async () => {
      if (u) {
        await ok(
          api.PATCH('/manage/users/{id}', {
            params: { path: { id: u.id } },
            body: {
              role,
              disabled,
              ...(password ? { password } : {}),
            },
          }),
        );
        props.onSaved(`${u.username} saved.`);
      } else {
        await ok(api.POST('/manage/users', { body: { username: username.trim(), password, role } }));
        props.onSaved(`${username.trim()} can now sign in.`);
      }
    },
  );
  const p = show ? problems : ({} as Partial<typeof problems>);
  return (
    <Dialog
      open
      title={u ? `Edit ${u.username}` : 'Add a user'}
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="user-form" busy={busy}>
            {u ? 'Save' : 'Add user'}
          </Button>
        </>
      }
    >
      <form id="user-form" class="form" onSubmit={submit} noValidate>
        {!u && (
          <TextField
            label="Username"
            name="new_username"
            value={username}
            onInput={setUsername}
            problem={p.username}
            autoFocus
          />
        )}
        <TextField
          label={u ? 'New password' : 'Password'}
          name="new_password"
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={setPassword}
          problem={p.password}
          hint={
            u
              ? 'Empty keeps the current password; a new one ends their sessions.'
              : 'At least 12 characters; stored as a scrypt hash.'
          }
        />
        <SelectField label="Role" name="role" value={role} onChange={(r) => setRole(r as Role)} options={ROLES} />
        {u && (
          <Checkbox
            label="Disabled (cannot sign in; ends their sessions)"
            checked={disabled}
            onChange={setDisabled}
            name="disabled"
          />
        )}
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

/** A project's upstream keys (its key pool): the table, and for admins add, edit, rotate and remove. */
import { useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import type { Project, ProjectKey, ProjectKeyPatch } from '../api/types';
import {
  Badge,
  Button,
  Card,
  Checkbox,
  Confirm,
  Dialog,
  ErrorNote,
  SelectField,
  TableWrap,
  TextField,
  toast,
} from '../components/ui';
import { percent, relative } from '../lib/format';
import { useSubmit } from '../lib/hooks';
import * as v from '../lib/validate';

type AuthStyle = ProjectKey['auth_style'];

const AUTH_STYLES: Array<{ value: AuthStyle; label: string }> = [
  { value: 'bearer', label: 'Bearer: Authorization: Bearer <key> (OpenAI, most servers)' },
  { value: 'api-key', label: 'api-key: <key> header (Azure OpenAI)' },
];

/** A key row's buttons: the dialog each opens, and its label. */
const KEY_ACTIONS = [
  ['edit', 'Edit'],
  ['rotate', 'Rotate'],
  ['remove', 'Remove'],
] as const;

/** A key's cooldown in a word or two: what it is for, and until when (this instance's view). */
function cooldownLabel(c: ProjectKey['cooldowns'][number]): string {
  const what = c.model ?? 'all models';
  return c.state === 'cooling' ? `cooling: ${what}, retried ${relative(c.until)}` : `trial due: ${what}`;
}

/** The last four characters of a hint, for a toast that says which secret is now in use. */
const ending = (hint: string) => `…${hint.slice(-4)}`;

export function KeysCard(props: { project: Project; keys: ProjectKey[]; onChanged: () => void }) {
  const { project: p, keys } = props;
  const [dialog, setDialog] = useState<
    | { kind: 'add' }
    | { kind: 'edit'; key: ProjectKey }
    | { kind: 'rotate'; key: ProjectKey }
    | { kind: 'remove'; key: ProjectKey }
    | undefined
  >();
  const admin = can('admin');
  const enabledWeight = keys.reduce((sum, k) => sum + (k.enabled ? k.weight : 0), 0);
  const done = (message: string) => {
    setDialog(undefined);
    toast(message);
    props.onChanged();
  };
  return (
    <Card
      title="Upstream keys"
      sub="Each request uses one enabled key: of two drawn by weight, the one less busy and faster."
      actions={
        admin && (
          <Button size="sm" icon="plus" onClick={() => setDialog({ kind: 'add' })}>
            Add a key
          </Button>
        )
      }
      flush
    >
      <TableWrap>
        <table>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Upstream</th>
              <th scope="col" class="hide-sm">
                Auth style
              </th>
              <th scope="col" class="num">
                Weight
              </th>
              <th scope="col">Status</th>
              <th scope="col" class="hide-sm">
                Updated
              </th>
              {admin && (
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id}>
                <td>
                  <div class="cell-main">{k.name}</div>
                  <div class="cell-sub">
                    <code>{k.api_key_hint}</code>
                  </div>
                </td>
                <td>
                  {k.base_url ? (
                    // Whole in the page (and in a tooltip), cut by the width with an ellipsis.
                    <div class="ellipsis" title={k.base_url}>
                      {k.base_url}
                    </div>
                  ) : (
                    <span class="muted">default</span>
                  )}
                </td>
                <td class="hide-sm">
                  {k.auth_style}
                  {k.http2 ? ', HTTP/2' : ''}
                </td>
                <td class="num">
                  {k.weight}
                  {k.enabled && <div class="cell-sub">{percent(k.weight, enabledWeight)}</div>}
                </td>
                <td>
                  {k.enabled ? <Badge tone="ok">enabled</Badge> : <Badge>disabled</Badge>}
                  {k.cooldowns.map((c) => (
                    <div key={c.model ?? ''} class="cell-sub">
                      <Badge tone={c.state === 'cooling' ? 'warn' : 'accent'}>{cooldownLabel(c)}</Badge>
                    </div>
                  ))}
                </td>
                <td class="hide-sm muted">{relative(k.updated_at)}</td>
                {admin && (
                  <td class="num">
                    <div class="row nowrap">
                      {KEY_ACTIONS.map(([kind, label]) => (
                        <Button
                          key={kind}
                          size="sm"
                          onClick={() => setDialog({ kind, key: k })}
                          aria-label={`${label} ${k.name}`}
                        >
                          {label}
                        </Button>
                      ))}
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {(dialog?.kind === 'add' || dialog?.kind === 'edit') && (
        <KeyDialog
          project={p}
          editing={dialog.kind === 'edit' ? dialog.key : undefined}
          onClose={() => setDialog(undefined)}
          onSaved={done}
        />
      )}
      {dialog?.kind === 'rotate' && (
        <RotateKeyDialog project={p} editing={dialog.key} onClose={() => setDialog(undefined)} onSaved={done} />
      )}
      <Confirm
        open={dialog?.kind === 'remove'}
        title={`Remove the key ${dialog?.kind === 'remove' ? dialog.key.name : ''}?`}
        confirmLabel="Remove key"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          if (dialog?.kind !== 'remove') return;
          const k = dialog.key;
          await ok(api.DELETE('/manage/projects/{id}/keys/{key_id}', { params: { path: { id: p.id, key_id: k.id } } }));
          // Confirm closes itself; the toast and the reload are what is left of `done`.
          toast(`Key ${k.name} removed.`);
          props.onChanged();
        }}
      >
        The proxy stops using it from the next request and forgets its encrypted secret. The key itself still works at
        its provider: revoke it there too if it should stop working.
      </Confirm>
    </Card>
  );
}

/** Add a key, or edit one (name, upstream, auth style, weight, enabled, HTTP/2; the secret is rotated apart). */
function KeyDialog(props: {
  project: Project;
  editing: ProjectKey | undefined;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const k = props.editing;
  const [name, setName] = useState(k?.name ?? '');
  const [secret, setSecret] = useState('');
  const [baseUrl, setBaseUrl] = useState(k?.base_url ?? '');
  const [authStyle, setAuthStyle] = useState<AuthStyle>(k?.auth_style ?? 'bearer');
  const [weight, setWeight] = useState(String(k?.weight ?? 1));
  const [enabled, setEnabled] = useState(k?.enabled ?? true);
  const [http2, setHttp2] = useState(k?.http2 ?? false);

  const problems = {
    name: v.projectName(name),
    api_key: k ? undefined : v.apiKey(secret, true),
    base_url: v.baseUrl(baseUrl),
    weight: v.keyWeight(weight),
  };

  const { show, busy, error, submit } = useSubmit(
    () => v.firstProblem(problems),
    async () => {
      const fields = {
        name: name.trim(),
        base_url: baseUrl.trim() === '' ? null : baseUrl.trim(),
        auth_style: authStyle,
        weight: Number(weight),
        enabled,
        http2,
      };
      if (k) {
        // Only what changed, so the audit trail says what was done.
        const body: ProjectKeyPatch = {};
        for (const f of Object.keys(fields) as Array<keyof typeof fields>)
          if (fields[f] !== k[f]) Object.assign(body, { [f]: fields[f] });
        await ok(
          api.PATCH('/manage/projects/{id}/keys/{key_id}', {
            params: { path: { id: props.project.id, key_id: k.id } },
            body,
          }),
        );
        props.onSaved(`Key ${fields.name} saved.`);
      } else {
        const added = await ok(
          api.POST('/manage/projects/{id}/keys', {
            params: { path: { id: props.project.id } },
            body: { ...fields, api_key: secret },
          }),
        );
        setSecret('');
        props.onSaved(`Key ${added.name} added, ending ${ending(added.api_key_hint)}.`);
      }
    },
  );

  const s = show ? problems : ({} as Partial<typeof problems>);
  return (
    <Dialog
      open
      wide
      title={k ? `Edit the key ${k.name}` : 'Add an upstream key'}
      sub="Changes apply from the next request of the project’s tokens."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="key-form" busy={busy}>
            {k ? 'Save changes' : 'Add key'}
          </Button>
        </>
      }
    >
      <form id="key-form" class="form" onSubmit={submit} noValidate>
        <div class="form-grid">
          <TextField
            label="Name"
            name="key_name"
            value={name}
            onInput={setName}
            problem={s.name}
            autoFocus
            hint="Unique within the project."
          />
          <TextField
            label="Weight"
            name="weight"
            value={weight}
            onInput={setWeight}
            problem={s.weight}
            inputMode="numeric"
            hint="Its share of requests against the other enabled keys, 1 to 1,000."
          />
        </div>
        {!k && (
          <TextField
            label="Upstream API key"
            name="api_key"
            type="password"
            autoComplete="new-password"
            value={secret}
            onInput={setSecret}
            problem={s.api_key}
            hint="Stored encrypted; never shown again, only a masked hint."
          />
        )}
        <div class="form-grid">
          <TextField
            label="Upstream base URL"
            name="key_base_url"
            value={baseUrl}
            onInput={setBaseUrl}
            problem={s.base_url}
            placeholder={props.project.base_url ?? 'https://api.openai.com'}
            inputMode="url"
            hint="Empty uses the project’s base URL, else the server’s OPENAI_API_URL."
          />
          <SelectField
            label="Auth style"
            name="auth_style"
            value={authStyle}
            onChange={(a) => setAuthStyle(a as AuthStyle)}
            options={AUTH_STYLES}
            hint="How the key is sent upstream."
          />
        </div>
        <Checkbox label="Enabled (requests may use it)" checked={enabled} onChange={setEnabled} name="enabled" />
        <Checkbox
          label="HTTP/2 to the upstream (over TLS; HTTP/1.1 where the server does not offer it)"
          checked={http2}
          onChange={setHttp2}
          name="http2"
        />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

/** A new secret for one key; the other keys and the project's tokens are untouched. */
function RotateKeyDialog(props: {
  project: Project;
  editing: ProjectKey;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const k = props.editing;
  const [secret, setSecret] = useState('');
  const problem = v.apiKey(secret, true);
  const { show, busy, error, submit } = useSubmit(
    () => Boolean(problem),
    async () => {
      const saved = await ok(
        api.PATCH('/manage/projects/{id}/keys/{key_id}', {
          params: { path: { id: props.project.id, key_id: k.id } },
          body: { api_key: secret },
        }),
      );
      setSecret('');
      props.onSaved(`Key ${saved.name} rotated; it now ends ${ending(saved.api_key_hint)}.`);
    },
  );
  return (
    <Dialog
      open
      title={`Rotate the key ${k.name}`}
      sub="The new secret is used from the next request that picks this key; tokens keep working."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="rotate-form" busy={busy}>
            Rotate key
          </Button>
        </>
      }
    >
      <form id="rotate-form" class="form" onSubmit={submit} noValidate>
        <p class="muted">
          Current key: <code>{k.api_key_hint}</code>
        </p>
        <TextField
          label="New upstream API key"
          name="new_api_key"
          type="password"
          autoComplete="new-password"
          value={secret}
          onInput={setSecret}
          problem={show ? problem : undefined}
          autoFocus
        />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

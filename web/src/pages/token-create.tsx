import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { CreatedToken, Project } from '../api/types';
import { Icon } from '../components/icons';
import { emptyLimits, LimitsFields, type LimitsState, limitsBody, limitsProblems } from '../components/limits-form';
import { Button, CopyButton, Dialog, ErrorNote, Segmented, SelectField, TableWrap, TextField } from '../components/ui';
import { handOff } from '../lib/handoff';
import { useSubmit } from '../lib/hooks.js';
import * as v from '../lib/validate';
import { navigate } from '../router';

type Expiry = 'never' | 'duration' | 'at';

/** Issue one token or a batch with the same settings; the plaintexts are then shown once. */
export function CreateTokenDialog(props: {
  projects: Project[];
  projectId?: string | undefined;
  onClose: () => void;
  onCreated: (tokens: CreatedToken[]) => void;
}) {
  const [mode, setMode] = useState<'one' | 'batch'>('one');
  const [projectId, setProjectId] = useState(props.projectId ?? props.projects[0]?.id ?? '');
  const [name, setName] = useState('');
  const [countText, setCountText] = useState('10');
  const [expiry, setExpiry] = useState<Expiry>('duration');
  const [duration, setDuration] = useState('1440');
  const [at, setAt] = useState('');
  const [limits, setLimits] = useState<LimitsState>(emptyLimits());

  const atMs = at ? Date.parse(at) : Number.NaN;
  const problems = {
    project: projectId ? undefined : 'Choose a project.',
    name: mode === 'batch' ? (name.trim().length > 180 ? 'At most 180 characters.' : undefined) : v.tokenName(name),
    count: mode === 'batch' ? v.batchCount(countText) : undefined,
    duration:
      expiry === 'duration' ? (duration.trim() === '' ? 'How many minutes?' : v.durationMinutes(duration)) : undefined,
    at:
      expiry === 'at'
        ? Number.isNaN(atMs)
          ? 'Pick a date and time.'
          : atMs <= Date.now()
            ? 'Must be in the future.'
            : undefined
        : undefined,
    ...limitsProblems(limits),
  };

  const { show, busy, error, submit } = useSubmit(
    () => Boolean(v.firstProblem(problems)),
    async () => {
      const when =
        expiry === 'duration'
          ? { duration_minutes: Number(duration) }
          : expiry === 'at'
            ? { expires_at: new Date(atMs).toISOString() }
            : {};
      const created =
        mode === 'one'
          ? [
              await ok(
                api.POST('/manage/tokens', {
                  body: { project_id: projectId, name: name.trim() || null, ...when, ...limitsBody(limits) },
                }),
              ),
            ]
          : (
              await ok(
                api.POST('/manage/tokens/batch', {
                  body: {
                    project_id: projectId,
                    count: Number(countText),
                    ...(name.trim() ? { name_prefix: name.trim() } : {}),
                    ...when,
                    ...limitsBody(limits),
                  },
                }),
              )
            ).data;
      props.onCreated(created);
    },
  );

  const p = show ? problems : ({} as Partial<typeof problems>);
  return (
    <Dialog
      open
      wide
      title={mode === 'one' ? 'Issue a token' : 'Issue a batch of tokens'}
      sub="A token lets a client call the proxy for one project. Its plaintext is shown once, right after this."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="token-form" busy={busy}>
            {mode === 'one' ? 'Issue token' : `Issue ${Number(countText) || ''} tokens`}
          </Button>
        </>
      }
    >
      <form id="token-form" class="form" onSubmit={submit} noValidate>
        <Segmented
          label="How many"
          value={mode}
          onChange={setMode}
          options={[
            { value: 'one', label: 'One token' },
            { value: 'batch', label: 'A batch' },
          ]}
        />
        <div class="form-grid">
          <SelectField
            label="Project"
            name="project"
            value={projectId}
            onChange={setProjectId}
            options={props.projects.map((x) => ({ value: x.id, label: x.name }))}
          />
          {mode === 'one' ? (
            <TextField
              label="Name"
              name="token_name"
              value={name}
              onInput={setName}
              problem={p.name}
              placeholder="ci-pipeline"
              hint="Optional, to recognise it later."
            />
          ) : (
            <TextField
              label="Name prefix"
              name="name_prefix"
              value={name}
              onInput={setName}
              problem={p.name}
              placeholder="workshop"
              hint="Names become prefix-01, prefix-02, …"
            />
          )}
          {mode === 'batch' && (
            <TextField
              label="Count"
              name="count"
              inputMode="numeric"
              value={countText}
              onInput={setCountText}
              problem={p.count}
              hint="1 to 1000, created together or not at all."
            />
          )}
        </div>
        {p.project && <div class="problem">{p.project}</div>}
        <fieldset class="stack">
          <legend>Expiry</legend>
          <Segmented
            label="Expiry"
            value={expiry}
            onChange={setExpiry}
            options={[
              { value: 'duration', label: 'After a while' },
              { value: 'at', label: 'At a time' },
              { value: 'never', label: 'Never' },
            ]}
          />
          {expiry === 'duration' && (
            <TextField
              label="Lifetime in minutes"
              name="duration_minutes"
              inputMode="numeric"
              value={duration}
              onInput={setDuration}
              problem={p.duration}
              hint="1440 is a day, 10080 a week."
            />
          )}
          {expiry === 'at' && (
            <TextField
              label="Expires at (your local time)"
              name="expires_at"
              type="datetime-local"
              value={at}
              onInput={setAt}
              problem={p.at}
            />
          )}
        </fieldset>
        <LimitsFields value={limits} onChange={setLimits} problems={problems} show={show} subject="token" />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

/** The one time the plaintext exists outside the client: shown with a copy button and a clear warning. */
export function CreatedTokensDialog({ tokens, onClose }: { tokens: CreatedToken[]; onClose: () => void }) {
  const one = tokens.length === 1 ? tokens[0] : undefined;
  const all = tokens.map((t) => `${t.name ?? t.id}\t${t.token}`).join('\n');
  return (
    <Dialog
      open
      wide={!one}
      title={one ? 'Your new token' : `${tokens.length} new tokens`}
      onClose={onClose}
      footer={
        <>
          {one && (
            <Button
              onClick={() => {
                handOff({ id: one.id, token: one.token, name: one.name });
                onClose();
                navigate('/try');
              }}
            >
              Try it now
            </Button>
          )}
          <Button variant="primary" onClick={onClose}>
            I have stored {one ? 'it' : 'them'}
          </Button>
        </>
      }
    >
      <div class="stack">
        <div class="alert warn" role="alert">
          <Icon name="alert" />
          <div>
            <div class="alert-title">
              Copy {one ? 'it' : 'them'} now: this is the only time {one ? 'it is' : 'they are'} shown.
            </div>
            Only a hash is stored. If {one ? 'it is' : 'they are'} lost, revoke and issue new ones.
          </div>
        </div>
        {one ? (
          <div class="secret">
            <code data-testid="new-token">{one.token}</code>
            <CopyButton text={one.token} />
          </div>
        ) : (
          <>
            <div class="row">
              <CopyButton text={all} label="Copy all (name, tab, token)" />
            </div>
            <TableWrap>
              <table>
                <tbody>
                  {tokens.map((t) => (
                    <tr key={t.id}>
                      <td>{t.name ?? 'unnamed'}</td>
                      <td>
                        <code>{t.token}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </>
        )}
        {one && (
          <p class="muted small">
            Use it as the API key of any OpenAI SDK, with this server’s <code>{location.origin}/v1</code> as the base
            URL.
          </p>
        )}
      </div>
    </Dialog>
  );
}

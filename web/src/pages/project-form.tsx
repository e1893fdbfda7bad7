import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { Project } from '../api/types';
import {
  emptyLimits,
  LimitsFields,
  type LimitsState,
  limitsBody,
  limitsFrom,
  limitsProblems,
} from '../components/limits-form';
import { Button, Checkbox, Dialog, ErrorNote, TextField } from '../components/ui';
import { useSubmit } from '../lib/hooks.js';
import * as v from '../lib/validate';

/** Create a project, or edit one (name, upstream, active, limits; the key is rotated apart). */
export function ProjectDialog(props: {
  open: boolean;
  project?: Project;
  onClose: () => void;
  onSaved: (p: Project) => void;
}) {
  const p = props.project;
  const [name, setName] = useState(p?.name ?? '');
  const [key, setKey] = useState('');
  const [baseUrl, setBaseUrl] = useState(p?.base_url ?? '');
  const [active, setActive] = useState(p?.is_active ?? true);
  const [limits, setLimits] = useState<LimitsState>(p ? limitsFrom(p) : emptyLimits());

  const problems = {
    name: v.projectName(name),
    api_key: p ? undefined : v.apiKey(key, true),
    base_url: v.baseUrl(baseUrl),
    ...limitsProblems(limits),
  };

  const { show, busy, error, submit } = useSubmit(
    () => Boolean(v.firstProblem(problems)),
    async () => {
      const common = {
        name: name.trim(),
        base_url: baseUrl.trim() === '' ? null : baseUrl.trim(),
        is_active: active,
        ...limitsBody(limits),
      };
      const saved = p
        ? await ok(api.PATCH('/manage/projects/{id}', { params: { path: { id: p.id } }, body: common }))
        : await ok(api.POST('/manage/projects', { body: { ...common, api_key: key } }));
      setKey('');
      props.onSaved(saved);
    },
  );

  const s = show ? problems : ({} as typeof problems);
  return (
    <Dialog
      open={props.open}
      wide
      title={p ? `Edit ${p.name}` : 'New project'}
      sub={
        p
          ? 'Changes apply to the project’s tokens from their next request.'
          : 'A project holds one upstream API key; the proxy issues tokens for it.'
      }
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="project-form" busy={busy}>
            {p ? 'Save changes' : 'Create project'}
          </Button>
        </>
      }
    >
      <form id="project-form" class="form" onSubmit={submit} noValidate>
        <div class="form-grid">
          <TextField
            label="Name"
            name="name"
            value={name}
            onInput={setName}
            problem={s.name}
            autoFocus
            hint="Unique, up to 200 characters."
          />
          <TextField
            label="Upstream base URL"
            name="base_url"
            value={baseUrl}
            onInput={setBaseUrl}
            problem={s.base_url}
            placeholder="https://api.openai.com"
            inputMode="url"
            hint="Empty uses the server’s OPENAI_API_URL."
          />
        </div>
        {!p && (
          <TextField
            label="Upstream API key"
            name="api_key"
            type="password"
            value={key}
            onInput={setKey}
            problem={s.api_key}
            hint="Stored encrypted; never shown again, only a masked hint."
          />
        )}
        <Checkbox label="Active (its tokens work)" checked={active} onChange={setActive} name="is_active" />
        <LimitsFields value={limits} onChange={setLimits} problems={problems} show={show} subject="project" />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

export function RotateKeyDialog(props: {
  open: boolean;
  project: Project;
  onClose: () => void;
  onSaved: (p: Project) => void;
}) {
  const [key, setKey] = useState('');
  const problem = v.apiKey(key, true);
  const { show, busy, error, submit } = useSubmit(
    () => Boolean(problem),
    async () => {
      const saved = await ok(
        api.PATCH('/manage/projects/{id}', { params: { path: { id: props.project.id } }, body: { api_key: key } }),
      );
      setKey('');
      props.onSaved(saved);
    },
  );
  return (
    <Dialog
      open={props.open}
      title="Rotate the upstream key"
      sub={`The new key is used from the next request of every token of ${props.project.name}; tokens keep working.`}
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
          Current key: <code>{props.project.api_key_hint}</code>
        </p>
        <TextField
          label="New upstream API key"
          name="new_api_key"
          type="password"
          value={key}
          onInput={setKey}
          problem={show ? problem : undefined}
          autoFocus
        />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

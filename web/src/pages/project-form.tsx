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

/** Create a project, or edit one (name, upstream, active, retry policy, limits; its keys are managed apart). */
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
  const [retryServerErrors, setRetryServerErrors] = useState(p?.retry_server_errors ?? false);
  const [cacheTtl, setCacheTtl] = useState(p?.cache_ttl_seconds == null ? '' : String(p.cache_ttl_seconds));
  const [limits, setLimits] = useState<LimitsState>(p ? limitsFrom(p) : emptyLimits());

  const problems = {
    name: v.projectName(name),
    api_key: p ? undefined : v.apiKey(key, true),
    base_url: v.baseUrl(baseUrl),
    cache_ttl_seconds: v.positiveInt(cacheTtl, 31_536_000),
    ...limitsProblems(limits),
  };

  const { show, busy, error, submit } = useSubmit(
    () => Boolean(v.firstProblem(problems)),
    async () => {
      const common = {
        name: name.trim(),
        base_url: baseUrl.trim() === '' ? null : baseUrl.trim(),
        is_active: active,
        retry_server_errors: retryServerErrors,
        cache_ttl_seconds: cacheTtl.trim() === '' ? null : Number(cacheTtl),
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
        <TextField
          label="Response cache TTL (seconds)"
          name="cache_ttl_seconds"
          value={cacheTtl}
          onInput={setCacheTtl}
          problem={s.cache_ttl_seconds}
          inputMode="numeric"
          hint="Identical requests within this time are answered from the cache (never another project's). Empty: not cached."
        />
        <Checkbox label="Active (its tokens work)" checked={active} onChange={setActive} name="is_active" />
        <Checkbox
          label="Retry server errors (a 5xx or timeout is retried even without an Idempotency-Key)"
          checked={retryServerErrors}
          onChange={setRetryServerErrors}
          name="retry_server_errors"
        />
        <LimitsFields value={limits} onChange={setLimits} problems={problems} show={show} subject="project" />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

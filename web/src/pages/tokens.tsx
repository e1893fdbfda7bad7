import { useMemo, useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import type { CreatedToken, TokenListQuery } from '../api/types';
import {
  Button,
  Card,
  Checkbox,
  Confirm,
  Dialog,
  Empty,
  ErrorNote,
  Loading,
  PageHead,
  Pager,
  SelectField,
  StatusBadge,
  TableWrap,
  TextField,
  toast,
} from '../components/ui';
import { count, plural, relative } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { useCursorPages } from '../lib/paging';
import { href, setQuery, useRoute } from '../router';
import { CreatedTokensDialog, CreateTokenDialog } from './token-create';

const PAGE = 25;
const WEEK = 7 * 86_400_000;
type Sort = NonNullable<TokenListQuery['sort']>;

const SORTS: Array<{ value: Sort; label: string }> = [
  { value: 'created', label: 'Created' },
  { value: 'name', label: 'Name' },
  { value: 'expires_at', label: 'Expiry' },
  { value: 'last_used_at', label: 'Last used' },
  { value: 'request_count', label: 'Requests' },
];

async function allProjects() {
  return (await ok(api.GET('/manage/projects', { params: { query: { limit: 1000 } } }))).data;
}

export function TokensPage() {
  useTitle('Tokens');
  const route = useRoute();
  const q = route.query;
  const filter = {
    project: q.get('project') ?? '',
    status: q.get('status') ?? '',
    soon: q.get('soon') === '1',
    name: q.get('name') ?? '',
    sort: (SORTS.find((s) => s.value === q.get('sort'))?.value ?? 'created') as Sort,
    order: q.get('order') === 'asc' ? 'asc' : ('desc' as 'asc' | 'desc'),
  };
  const key = JSON.stringify(filter);
  const pages = useCursorPages(key);
  const [typedName, setTypedName] = useState(filter.name);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<'create' | 'revoke-selected' | 'revoke-filter' | undefined>(
    q.get('new') === '1' ? 'create' : undefined,
  );
  const [created, setCreated] = useState<CreatedToken[] | undefined>();

  const projects = useLoad(allProjects, []);
  const projectName = useMemo(() => new Map((projects.data ?? []).map((p) => [p.id, p.name])), [projects.data]);
  const list = useLoad(() => {
    const query: TokenListQuery = {
      limit: PAGE,
      cursor: pages.cursor,
      sort: filter.sort,
      order: filter.order,
      ...(filter.project ? { project_id: filter.project } : {}),
      ...(filter.status ? { status: filter.status as TokenListQuery['status'] } : {}),
      ...(filter.soon ? { expires_before: String(Date.now() + WEEK) } : {}),
      ...(filter.name ? { name: filter.name } : {}),
    };
    return ok(api.GET('/manage/tokens', { params: { query } }));
  }, [key, pages.cursor]);
  const rows = list.data?.data ?? [];
  const set = (patch: Partial<Record<string, string | undefined>>) => {
    setSelected(new Set());
    setQuery({
      project: filter.project,
      status: filter.status,
      soon: filter.soon ? '1' : undefined,
      name: filter.name,
      sort: filter.sort === 'created' ? undefined : filter.sort,
      order: filter.order === 'desc' ? undefined : filter.order,
      ...patch,
    });
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const revocable = rows.filter((t) => t.is_active);
  const allSelected = revocable.length > 0 && revocable.every((t) => selected.has(t.id));
  const filtered = filter.project || filter.status || filter.soon || filter.name;

  return (
    <>
      <PageHead title="Tokens" sub="Withdrawable, expiring credentials for the proxy. Only their hashes are stored.">
        {can('operator') && (
          <>
            <Button onClick={() => setDialog('revoke-filter')}>Revoke by filter…</Button>
            <Button
              variant="primary"
              icon="plus"
              onClick={() => setDialog('create')}
              disabled={(projects.data ?? []).length === 0}
            >
              Issue token
            </Button>
          </>
        )}
      </PageHead>
      <Card flush>
        <form
          class="toolbar"
          aria-label="Filter tokens"
          onSubmit={(e) => {
            e.preventDefault();
            set({ name: typedName.trim() || undefined });
          }}
        >
          <SelectField
            label="Project"
            name="filter_project"
            value={filter.project}
            onChange={(v) => set({ project: v || undefined })}
            options={[
              { value: '', label: 'All projects' },
              ...(projects.data ?? []).map((p) => ({ value: p.id, label: p.name })),
            ]}
          />
          <SelectField
            label="Status"
            name="filter_status"
            value={filter.status}
            onChange={(v) => set({ status: v || undefined })}
            options={[
              { value: '', label: 'Any status' },
              { value: 'active', label: 'Active' },
              { value: 'expired', label: 'Expired' },
              { value: 'revoked', label: 'Revoked' },
              { value: 'exhausted', label: 'Request cap reached' },
            ]}
          />
          <div class="field">
            <label for="token-name-filter">Name contains</label>
            <input
              id="token-name-filter"
              class="input"
              type="search"
              value={typedName}
              onInput={(e) => setTypedName((e.target as HTMLInputElement).value)}
              onBlur={() => typedName.trim() !== filter.name && set({ name: typedName.trim() || undefined })}
            />
          </div>
          <SelectField
            label="Sort by"
            name="sort"
            value={filter.sort}
            onChange={(v) => set({ sort: v === 'created' ? undefined : v })}
            options={SORTS}
          />
          <SelectField
            label="Order"
            name="order"
            value={filter.order}
            onChange={(v) => set({ order: v === 'desc' ? undefined : v })}
            options={[
              { value: 'desc', label: 'Descending' },
              { value: 'asc', label: 'Ascending' },
            ]}
          />
          <Checkbox
            label="Expiring within 7 days"
            checked={filter.soon}
            onChange={(c) => set({ soon: c ? '1' : undefined })}
            name="soon"
          />
          <button type="submit" class="sr-only">
            Apply filters
          </button>
        </form>
        {selected.size > 0 && (
          <div class="toolbar spread">
            <span>{plural(selected.size, 'token')} selected</span>
            <div class="row">
              <Button size="sm" onClick={() => setSelected(new Set())}>
                Clear
              </Button>
              <Button size="sm" variant="danger" onClick={() => setDialog('revoke-selected')}>
                Revoke selected
              </Button>
            </div>
          </div>
        )}
        {list.error !== undefined && (
          <div class="card-body">
            <ErrorNote error={list.error} onRetry={list.reload} />
          </div>
        )}
        {list.loading && !list.data ? (
          <Loading rows={6} label="Loading tokens" />
        ) : rows.length === 0 ? (
          filtered ? (
            <Empty
              icon="search"
              title="No token matches these filters"
              action={
                <Button
                  onClick={() => {
                    setTypedName('');
                    setQuery({});
                  }}
                >
                  Clear filters
                </Button>
              }
            />
          ) : (
            <Empty
              icon="tokens"
              title="No tokens yet"
              action={
                can('operator') &&
                ((projects.data ?? []).length > 0 ? (
                  <Button variant="primary" icon="plus" onClick={() => setDialog('create')}>
                    Issue the first token
                  </Button>
                ) : (
                  <a class="btn btn-primary" href={href('/projects?new=1')}>
                    Create a project first
                  </a>
                ))
              }
            >
              Tokens are what clients use as their API key. Each belongs to a project, can expire, and can be limited
              and revoked.
            </Empty>
          )
        ) : (
          <>
            <TableWrap>
              <table>
                <thead>
                  <tr>
                    {can('operator') && (
                      <th scope="col">
                        <input
                          type="checkbox"
                          aria-label="Select all active tokens on this page"
                          checked={allSelected}
                          onChange={() => setSelected(allSelected ? new Set() : new Set(revocable.map((t) => t.id)))}
                        />
                      </th>
                    )}
                    <th scope="col">Token</th>
                    <th scope="col">Project</th>
                    <th scope="col">Status</th>
                    <th scope="col">Expires</th>
                    <th scope="col" class="num">
                      Requests
                    </th>
                    <th scope="col" class="hide-sm">
                      Last used
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((t) => (
                    <tr key={t.id}>
                      {can('operator') && (
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Select ${t.name ?? t.token_hint}`}
                            checked={selected.has(t.id)}
                            disabled={!t.is_active}
                            onChange={() => toggle(t.id)}
                          />
                        </td>
                      )}
                      <td>
                        <a class="cell-main" href={href(`/tokens/${t.id}`)}>
                          {t.name ?? 'unnamed'}
                        </a>
                        <div class="cell-sub">
                          <code>{t.token_hint}</code>
                        </div>
                      </td>
                      <td>
                        <a href={href(`/projects/${t.project_id}`)}>{projectName.get(t.project_id) ?? '…'}</a>
                      </td>
                      <td>
                        <StatusBadge status={t.status} />
                      </td>
                      <td class="muted">{t.expires_at ? relative(t.expires_at) : 'never'}</td>
                      <td class="num">
                        {count(t.request_count)}
                        {t.max_requests !== null && <span class="muted"> / {count(t.max_requests)}</span>}
                      </td>
                      <td class="hide-sm muted">{t.last_used_at ? relative(t.last_used_at) : 'never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={list.data?.next_cursor} summary={plural(rows.length, 'token')} />
          </>
        )}
      </Card>
      {dialog === 'create' && projects.data && (
        <CreateTokenDialog
          projects={projects.data}
          projectId={filter.project || undefined}
          onClose={() => setDialog(undefined)}
          onCreated={(t) => {
            setDialog(undefined);
            setCreated(t);
            list.reload();
          }}
        />
      )}
      {created && <CreatedTokensDialog tokens={created} onClose={() => setCreated(undefined)} />}
      <Confirm
        open={dialog === 'revoke-selected'}
        title={`Revoke ${plural(selected.size, 'token')}?`}
        confirmLabel="Revoke"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          const r = await ok(api.POST('/manage/tokens/revoke', { body: { ids: [...selected] } }));
          toast(`${plural(r.revoked, 'token')} revoked.`);
          setSelected(new Set());
          list.reload();
        }}
      >
        The proxy refuses them from their next request. Revoked tokens stay listed (as revoked) and cannot be used
        again.
      </Confirm>
      {dialog === 'revoke-filter' && projects.data && (
        <RevokeByFilterDialog
          projects={projects.data}
          onClose={() => setDialog(undefined)}
          onDone={() => {
            setDialog(undefined);
            list.reload();
          }}
        />
      )}
    </>
  );
}

function RevokeByFilterDialog(props: {
  projects: Array<{ id: string; name: string }>;
  onClose: () => void;
  onDone: () => void;
}) {
  const [projectId, setProjectId] = useState('');
  const [prefix, setPrefix] = useState('');
  const [expired, setExpired] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const none = !projectId && !prefix && !expired;
  const go = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await ok(
        api.POST('/manage/tokens/revoke', {
          body: {
            ...(projectId ? { project_id: projectId } : {}),
            ...(prefix ? { name_prefix: prefix } : {}),
            ...(expired ? { expired: true as const } : {}),
          },
        }),
      );
      toast(`${plural(r.revoked, 'token')} revoked.`);
      props.onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open
      title="Revoke tokens by filter"
      sub="Every active token matching all the conditions below is revoked, in one step."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="danger" busy={busy} disabled={none} onClick={go}>
            Revoke matching tokens
          </Button>
        </>
      }
    >
      <div class="form">
        <SelectField
          label="Project"
          value={projectId}
          onChange={setProjectId}
          options={[
            { value: '', label: 'Any project' },
            ...props.projects.map((p) => ({ value: p.id, label: p.name })),
          ]}
        />
        <TextField
          label="Name starts with"
          value={prefix}
          onInput={setPrefix}
          hint="Compared exactly, case-sensitively."
          placeholder="workshop-"
        />
        <Checkbox label="Only tokens past their expiry" checked={expired} onChange={setExpired} />
        {none && <p class="muted small">Give at least one condition: an empty filter never revokes everything.</p>}
        <ErrorNote error={error} />
      </div>
    </Dialog>
  );
}

import { useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import { limitsSummary } from '../components/limits-form';
import {
  Badge,
  Button,
  Card,
  Confirm,
  Empty,
  ErrorNote,
  Loading,
  PageHead,
  Stat,
  StatusBadge,
  TableWrap,
  toast,
} from '../components/ui';
import { UsageChart } from '../components/usage-chart';
import { compact, count, dateTime, percent, plural, relative, usd } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { windowOf } from '../lib/range';
import { href, navigate } from '../router';
import { ProjectDialog } from './project-form';
import { KeysCard } from './project-keys';

async function loadProject(id: string) {
  const w = windowOf('30d');
  const [project, keys, usage, tokens, activeTokens] = await Promise.all([
    ok(api.GET('/manage/projects/{id}', { params: { path: { id } } })),
    ok(api.GET('/manage/projects/{id}/keys', { params: { path: { id }, query: { limit: 1000 } } })),
    ok(
      api.GET('/manage/usage', {
        params: { query: { project_id: id, group_by: w.bucket, from: String(w.from), to: String(w.to) } },
      }),
    ),
    ok(api.GET('/manage/tokens', { params: { query: { project_id: id, limit: 8, sort: 'created', order: 'desc' } } })),
    ok(api.GET('/manage/tokens', { params: { query: { project_id: id, status: 'active', limit: 1000 } } })),
  ]);
  return {
    project,
    keys: keys.data,
    usage,
    w,
    tokens: tokens.data,
    active: activeTokens.data.length,
    moreActive: activeTokens.next_cursor !== null,
  };
}

export function ProjectPage({ id }: { id: string }) {
  const data = useLoad(() => loadProject(id), [id]);
  const [dialog, setDialog] = useState<'edit' | 'revoke' | 'purge' | 'delete' | undefined>();
  const d = data.data;
  useTitle(d?.project.name ?? 'Project');
  if (!d) {
    return (
      <>
        <PageHead title="Project" crumbs={<a href={href('/projects')}>Projects</a>} />
        {data.error ? (
          <ErrorNote error={data.error} onRetry={data.reload} />
        ) : (
          <Loading rows={6} label="Loading the project" />
        )}
      </>
    );
  }
  const p = d.project;
  const u = p.usage;
  const disabledKeys = d.keys.filter((k) => !k.enabled).length;
  const activeText = `${d.active}${d.moreActive ? '+' : ''} active token${d.active === 1 ? '' : 's'}`;
  return (
    <>
      <PageHead
        title={p.name}
        crumbs={<a href={href('/projects')}>Projects</a>}
        sub={
          <span class="row">
            {p.is_active ? <Badge tone="ok">active</Badge> : <Badge>inactive</Badge>}
            {p.retry_server_errors && <Badge>retries server errors</Badge>}
            <span>
              {plural(d.keys.length, 'upstream key')}
              {disabledKeys > 0 && ` (${disabledKeys} disabled)`} · upstream {p.base_url ?? 'default (OPENAI_API_URL)'}
              {p.cache_ttl_seconds === null ? ' · not cached' : ` · responses cached ${p.cache_ttl_seconds} s`}
            </span>
          </span>
        }
      >
        {can('operator') && (
          <a class="btn btn-primary" href={href(`/tokens?project=${p.id}&new=1`)}>
            Issue a token
          </a>
        )}
        {can('admin') && <Button onClick={() => setDialog('edit')}>Edit</Button>}
        {can('operator') && (
          <Button onClick={() => setDialog('revoke')} disabled={d.active === 0}>
            Revoke all tokens
          </Button>
        )}
        {can('admin') && <Button onClick={() => setDialog('purge')}>Purge cache</Button>}
        {can('admin') && (
          <Button variant="danger" onClick={() => setDialog('delete')}>
            Delete
          </Button>
        )}
      </PageHead>
      <ErrorNote error={data.error} onRetry={data.reload} />
      <div class="stack">
        <div class="grid grid-4">
          <Stat
            label="Requests (lifetime)"
            value={compact(u.requests)}
            sub={`${count(u.errors)} errors (${percent(u.errors, u.requests)})`}
          />
          <Stat
            label="Cost (lifetime)"
            value={usd(u.cost_usd)}
            sub={u.unpriced_requests ? `${count(u.unpriced_requests)} unpriced` : 'all priced'}
          />
          <Stat
            label="Tokens used"
            value={compact(u.total_tokens)}
            sub={`${compact(u.prompt_tokens)} in · ${compact(u.completion_tokens)} out`}
          />
          <Stat
            label="Active tokens"
            value={`${d.active}${d.moreActive ? '+' : ''}`}
            sub={`created ${dateTime(p.created_at)}`}
          />
        </div>
        <Card title="Requests, last 30 days" sub="Per day">
          {d.usage.totals.requests === 0 ? (
            <p class="muted">No requests in the last 30 days.</p>
          ) : (
            <UsageChart
              entries={d.usage.data}
              window={d.w}
              metric="requests"
              height={200}
              since={{ at: p.created_at, what: 'the project' }}
            />
          )}
        </Card>
        <div class="grid grid-2">
          <Card title="Limits" sub="A ceiling over all the project’s tokens together">
            <dl class="kv">
              {limitsSummary(p).flatMap(([k, val]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{val}</dd>])}
            </dl>
          </Card>
          <Card title="Newest tokens" actions={<a href={href(`/tokens?project=${p.id}`)}>All tokens</a>} flush>
            {d.tokens.length === 0 ? (
              <Empty icon="tokens" title="No tokens yet">
                Issue a token to let a client call the proxy for this project.
              </Empty>
            ) : (
              <TableWrap>
                <table>
                  <tbody>
                    {d.tokens.map((t) => (
                      <tr key={t.id}>
                        <td>
                          <a href={href(`/tokens/${t.id}`)} class="cell-main">
                            {t.name ?? 'unnamed'}
                          </a>
                          <div class="cell-sub">
                            <code>{t.token_hint}</code>
                          </div>
                        </td>
                        <td>
                          <StatusBadge status={t.status} />
                        </td>
                        <td class="muted">{t.expires_at ? `expires ${relative(t.expires_at)}` : 'no expiry'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Card>
        </div>
        <KeysCard project={p} keys={d.keys} onChanged={data.reload} />
      </div>
      {dialog === 'edit' && (
        <ProjectDialog
          open
          project={p}
          onClose={() => setDialog(undefined)}
          onSaved={() => {
            setDialog(undefined);
            toast('Project saved.');
            data.reload();
          }}
        />
      )}
      <Confirm
        open={dialog === 'revoke'}
        title={`Revoke all tokens of ${p.name}?`}
        confirmLabel={`Revoke ${activeText}`}
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          const r = await ok(api.POST('/manage/projects/{id}/tokens/revoke', { params: { path: { id: p.id } } }));
          toast(`${plural(r.revoked, 'token')} revoked.`);
          data.reload();
        }}
      >
        The proxy refuses each of the project’s {activeText} from its next request. Revoked tokens cannot be used again;
        issue new ones if needed.
      </Confirm>
      <Confirm
        open={dialog === 'purge'}
        title={`Purge the cached responses of ${p.name}?`}
        confirmLabel="Purge cache"
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          const r = await ok(api.DELETE('/manage/projects/{id}/cache', { params: { path: { id: p.id } } }));
          toast(`${plural(r.purged, 'cached response')} purged.`);
        }}
      >
        The next identical requests go to the upstream again. With the memory cache backend only this instance’s cache
        is purged; with Redis, every instance’s.
      </Confirm>
      <Confirm
        open={dialog === 'delete'}
        title={`Delete ${p.name}?`}
        confirmLabel="Delete project"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          await ok(api.DELETE('/manage/projects/{id}', { params: { path: { id: p.id } } }));
          toast(`Project ${p.name} deleted.`);
          navigate('/projects');
        }}
      >
        <p>
          This deletes the project, its encrypted upstream key and <strong>all its tokens</strong> ({activeText} among
          them): the proxy refuses them at once. Usage history stays in the statistics. This cannot be undone.
        </p>
      </Confirm>
    </>
  );
}

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { AuditEvent, AuditQuery } from '../api/types';
import {
  Badge,
  Button,
  Card,
  Empty,
  ErrorNote,
  Loading,
  PageHead,
  Pager,
  SelectField,
  TableWrap,
  TextField,
} from '../components/ui';
import { changeLines, changeSummary, detailsSummary, valueText } from '../lib/changes';
import { dateTime } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { useCursorPages } from '../lib/paging';
import { setQuery, useRoute } from '../router';

const PAGE = 50;

const ACTIONS = [
  { value: '', label: 'Any action' },
  { value: 'project.*', label: 'Projects' },
  { value: 'token.*', label: 'Tokens' },
  { value: 'token.batch_*', label: 'Token batches' },
  { value: 'pricing.*', label: 'Pricing' },
  { value: 'management.auth_failed', label: 'Failed sign-ins' },
  { value: 'proxy.*', label: 'Refused proxy requests' },
  { value: 'user.*', label: 'Users' },
  { value: 'session.*', label: 'Sessions' },
  { value: 'audit.*', label: 'Audit trail' },
];

const tone = (action: string) =>
  action.endsWith('failed') || action.includes('refused') || action.endsWith('deleted') || action.endsWith('revoked')
    ? 'danger'
    : action.endsWith('created')
      ? 'ok'
      : 'accent';

/** What changed, in one line: `name "a" → "b"`, `removed: …`, or the event's details. */
const what = (e: AuditEvent): string => changeSummary(e.changes) || detailsSummary(e.details);

/** An event in full: its changes as a before/after list, its other facts, request id and hash. */
function EventDetails({ e }: { e: AuditEvent }) {
  const lines = changeLines(e.changes);
  // A creation has no before: one column of the values it was created with.
  const created = e.changes?.before === null;
  return (
    <section class="audit-details" id={`event-${e.id}`} aria-label={`Event ${e.seq} in full`}>
      {lines.length > 0 && (
        <table class="changes">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {created ? null : <th scope="col">Before</th>}
              <th scope="col">{created ? 'Set to' : 'After'}</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={l.field}>
                <td class="mono">{l.field}</td>
                {created ? null : <td>{l.before ?? <span class="muted">not set</span>}</td>}
                <td>{l.after ?? <span class="muted">removed</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <dl class="kv small">
        {Object.entries(e.details ?? {}).flatMap(([k, v]) => [
          <dt key={`${k}-k`} class="mono">
            {k}
          </dt>,
          <dd key={`${k}-v`}>{valueText(v)}</dd>,
        ])}
        {e.request_id && (
          <>
            <dt>Request id</dt>
            <dd class="mono">{e.request_id}</dd>
          </>
        )}
        <dt>Hash</dt>
        <dd class="mono">{e.hash}</dd>
      </dl>
    </section>
  );
}

export function AuditPage() {
  useTitle('Audit log');
  const q = useRoute().query;
  const filter = {
    action: q.get('action') ?? '',
    actor: q.get('actor') ?? '',
    target: q.get('target') ?? '',
    from: q.get('from') ?? '',
    to: q.get('to') ?? '',
  };
  const [typed, setTyped] = useState(filter);
  const key = JSON.stringify(filter);
  const pages = useCursorPages(key);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) => {
    const next = new Set(open);
    if (!next.delete(id)) next.add(id);
    setOpen(next);
  };
  const list = useLoad(() => {
    const query: AuditQuery = {
      limit: PAGE,
      cursor: pages.cursor,
      ...(filter.action ? { action: filter.action } : {}),
      ...(filter.actor ? { actor: filter.actor } : {}),
      ...(filter.target ? { target_id: filter.target } : {}),
      ...(filter.from ? { from: new Date(filter.from).toISOString() } : {}),
      ...(filter.to ? { to: new Date(filter.to).toISOString() } : {}),
    };
    return ok(api.GET('/manage/audit', { params: { query } }));
  }, [key, pages.cursor]);
  const rows = list.data?.data ?? [];
  const apply = (next: typeof filter) => setQuery(next);

  return (
    <>
      <PageHead
        title="Audit log"
        sub="Every management change, failed sign-in and refused request, chained so tampering shows (llm-proxy audit verify)."
      />
      <Card flush>
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            apply(typed);
          }}
        >
          <SelectField
            label="Action"
            value={typed.action}
            onChange={(a) => {
              setTyped({ ...typed, action: a });
              apply({ ...typed, action: a });
            }}
            options={ACTIONS}
          />
          <TextField
            label="Actor"
            value={typed.actor}
            onInput={(a) => setTyped({ ...typed, actor: a })}
            placeholder="management-token"
          />
          <TextField
            label="Target id"
            value={typed.target}
            onInput={(a) => setTyped({ ...typed, target: a })}
            placeholder="project or token id"
          />
          <TextField
            label="From"
            type="datetime-local"
            value={typed.from}
            onInput={(a) => setTyped({ ...typed, from: a })}
          />
          <TextField label="To" type="datetime-local" value={typed.to} onInput={(a) => setTyped({ ...typed, to: a })} />
          <Button type="submit" icon="search">
            Apply
          </Button>
        </form>
        {list.error !== undefined && (
          <div class="card-body">
            <ErrorNote error={list.error} onRetry={list.reload} />
          </div>
        )}
        {list.loading && !list.data ? (
          <Loading rows={8} label="Loading the audit log" />
        ) : rows.length === 0 ? (
          <Empty icon="audit" title="No events match">
            Changes made through the API, the CLI or this UI appear here as they happen.
          </Empty>
        ) : (
          <>
            <TableWrap>
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Target</th>
                    <th scope="col">What</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((e) => (
                    <Fragment key={e.id}>
                      <tr>
                        <td class="muted">
                          {dateTime(e.time)}
                          <div class="cell-sub">#{e.seq}</div>
                        </td>
                        <td>
                          <Badge tone={tone(e.action)} plain>
                            {e.action}
                          </Badge>
                        </td>
                        <td class="ids">
                          {e.actor_type}
                          {e.actor_id && <div class="cell-sub mono">{e.actor_id}</div>}
                          {e.client_ip && <div class="cell-sub">{e.client_ip}</div>}
                        </td>
                        <td class="ids">
                          {e.target_type ?? '–'}
                          {e.target_id && <div class="cell-sub mono">{e.target_id}</div>}
                        </td>
                        <td class="wrap">
                          <div class="small clamp">{what(e) || <span class="muted">no details</span>}</div>
                          <button
                            type="button"
                            class="btn btn-ghost btn-sm"
                            aria-expanded={open.has(e.id)}
                            aria-controls={open.has(e.id) ? `event-${e.id}` : undefined}
                            onClick={() => toggle(e.id)}
                          >
                            {open.has(e.id) ? 'Hide details' : 'Details'}
                          </button>
                        </td>
                      </tr>
                      {open.has(e.id) && (
                        <tr class="details-row">
                          <td colSpan={5}>
                            <EventDetails e={e} />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager pages={pages} nextCursor={list.data?.next_cursor} />
          </>
        )}
      </Card>
    </>
  );
}

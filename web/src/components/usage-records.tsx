import { useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { UsageRecord, UsageRecordsQuery } from '../api/types';
import { count, dateTime, usd } from '../lib/format';
import { useLoad } from '../lib/hooks';
import { useCursorPages } from '../lib/paging';
import { Badge, Button, Card, Empty, ErrorNote, Loading, Pager, SelectField, TableWrap, TextField } from './ui';

const PAGE = 20;

const KINDS = [
  { value: '', label: 'Everything' },
  { value: 'request', label: 'Requests' },
  { value: 'job', label: 'Batches and background' },
];

/** What kind of work a job id names: OpenAI's batch ids start batch_, response ids resp_. */
export const jobLabel = (jobId: string): string => (jobId.startsWith('batch_') ? 'batch' : 'background');

/** A job id cut to fit a table cell (the whole id is in the button's title and the filter it sets). */
const shortId = (id: string): string => (id.length > 18 ? `${id.slice(0, 16)}…` : id);

/**
 * A token's usage records, newest first: one per request, and one per line of a batch or finished
 * background response, labelled with its job. Filter by kind or by one job (a job's label sets it).
 */
export function UsageRecords({ tokenId }: { tokenId: string }) {
  const [kind, setKind] = useState<'' | 'request' | 'job'>('');
  const [job, setJob] = useState('');
  const [typedJob, setTypedJob] = useState('');
  const key = `${kind}|${job}`;
  const pages = useCursorPages(key);
  const list = useLoad(
    () => {
      const query: UsageRecordsQuery = {
        token_id: tokenId,
        limit: PAGE,
        ...(pages.cursor ? { cursor: pages.cursor } : {}),
        ...(job ? { job_id: job } : kind ? { kind } : {}),
      };
      return ok(api.GET('/manage/usage/records', { params: { query } }));
    },
    [tokenId, key, pages.cursor],
    10_000,
  );
  const showJob = (id: string) => {
    setTypedJob(id);
    setJob(id);
  };
  const rows = list.data?.data ?? [];
  return (
    <Card title="Recent records" sub="One per request; batches and background responses one per line they ran" flush>
      <form
        class="toolbar"
        aria-label="Filter records"
        onSubmit={(e) => {
          e.preventDefault();
          setJob(typedJob.trim());
        }}
      >
        <SelectField
          label="Show"
          value={kind}
          onChange={(k) => {
            setKind(k as typeof kind);
            setTypedJob('');
            setJob('');
          }}
          options={KINDS}
        />
        <TextField label="Job id" value={typedJob} onInput={setTypedJob} placeholder="batch_… or resp_…" />
        <Button type="submit" icon="search">
          Apply
        </Button>
        {job && (
          <Button
            onClick={() => {
              setTypedJob('');
              setJob('');
            }}
          >
            Clear job
          </Button>
        )}
      </form>
      {list.error !== undefined && (
        <div class="card-body">
          <ErrorNote error={list.error} onRetry={list.reload} />
        </div>
      )}
      {list.loading && !list.data ? (
        <Loading rows={4} label="Loading records" />
      ) : rows.length === 0 ? (
        <Empty icon="inbox" title="No records match">
          Requests appear here within seconds; a batch's lines once the proxy has seen it finish.
        </Empty>
      ) : (
        <>
          <TableWrap label="Recent records">
            <table data-testid="usage-records">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Path</th>
                  <th scope="col">Model</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">
                    Tokens
                  </th>
                  <th scope="col" class="num">
                    Cost
                  </th>
                  <th scope="col">Job</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <Row key={r.id} r={r} onJob={showJob} />
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager pages={pages} nextCursor={list.data?.next_cursor} />
        </>
      )}
    </Card>
  );
}

function Row({ r, onJob }: { r: UsageRecord; onJob: (id: string) => void }) {
  return (
    <tr data-job={r.job_id ?? undefined}>
      <td>{dateTime(r.created_at)}</td>
      <td class="mono">{r.path}</td>
      <td>{r.model ?? <span class="muted">–</span>}</td>
      <td>{r.status}</td>
      <td class="num">{count(r.total_tokens)}</td>
      <td class="num">{r.cost_usd === null ? <span class="muted">–</span> : usd(r.cost_usd)}</td>
      <td>
        {r.job_id ? (
          <Button
            size="sm"
            variant="ghost"
            title={`Only the records of ${r.job_id}`}
            onClick={() => onJob(r.job_id as string)}
          >
            <Badge tone="accent">{jobLabel(r.job_id)}</Badge> <span class="mono">{shortId(r.job_id)}</span>
          </Button>
        ) : (
          <span class="muted">–</span>
        )}
      </td>
    </tr>
  );
}

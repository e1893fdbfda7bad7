import { api, ok } from '../api/client';
import type { Instance, InstancesListing } from '../api/types';
import { Badge, Card, Empty, ErrorNote, Loading, PageHead, Stat, TableWrap } from '../components/ui';
import { count, dateTime, relative, span } from '../lib/format';
import { useLoad, useNow, useTitle } from '../lib/hooks';

/** Heartbeats arrive every few seconds (INSTANCE_HEARTBEAT_MS, default 5 s): read the list as often. */
const REFRESH_MS = 5_000;

const STATE_TONE: Record<Instance['state'], 'ok' | 'warn' | 'danger'> = {
  live: 'ok',
  draining: 'warn',
  gone: 'danger',
};

/** `ok`, or a failure in words, as a badge. */
const dependency = (state: string | null) =>
  state === null ? (
    <span class="muted">not used</span>
  ) : (
    <Badge tone={state === 'ok' ? 'ok' : 'danger'} plain>
      {state}
    </Badge>
  );

/** What the two dependency cards read (the listing as the client types it, whatever its paging field). */
type Dependencies = Pick<InstancesListing, 'database' | 'redis'> | undefined;

/** What an instance sees failing, in words (also on a phone, where those columns are hidden); '' when nothing. */
const trouble = (i: Instance): string =>
  [i.database !== 'ok' && 'database failing', i.redis !== null && i.redis !== 'ok' && 'Redis failing']
    .filter(Boolean)
    .join(', ');

function DatabaseStat({ listing }: { listing: Dependencies }) {
  const db = listing?.database;
  return (
    <Stat
      label="Database"
      value={db ? (db.status === 'ok' ? 'Reachable' : 'Unreachable') : '…'}
      sub={db ? `${db.kind}, as this instance sees it` : ' '}
      testId="stat-database"
    />
  );
}

function RedisStat({ listing }: { listing: Dependencies }) {
  const redis = listing?.redis;
  return (
    <Stat
      label="Redis"
      value={!listing ? '…' : redis ? (redis.state === 'ok' ? 'Reachable' : 'Failing') : 'Not used'}
      sub={
        !listing ? ' ' : redis ? `limits shared; failure mode ${redis.mode}` : 'no REDIS_URL: limits kept per instance'
      }
      testId="stat-redis"
    />
  );
}

export function InstancesPage() {
  useTitle('Instances');
  const list = useLoad(() => ok(api.GET('/manage/instances')), [], REFRESH_MS);
  const now = useNow(REFRESH_MS);
  const rows = list.data?.data ?? [];
  const live = rows.filter((i) => i.state !== 'gone');
  const goneAfter = list.data ? span(list.data.gone_after_ms) : '…';
  return (
    <>
      <PageHead
        title="Instances"
        sub={`The server processes sharing this database, from the heartbeat each writes every few seconds. One without a heartbeat for ${goneAfter} shows as gone; a graceful stop removes it at once.`}
      />
      <ErrorNote error={list.error} onRetry={list.reload} />
      <div class="stack">
        <div class="grid grid-4">
          <Stat
            label="Instances"
            value={list.data ? count(live.length) : '…'}
            sub={list.data ? `${count(rows.length - live.length)} gone` : ' '}
            testId="stat-instances"
          />
          <Stat
            label="In flight now"
            value={list.data ? count(live.reduce((n, i) => n + i.in_flight, 0)) : '…'}
            sub="proxy requests, all instances"
          />
          <DatabaseStat listing={list.data} />
          <RedisStat listing={list.data} />
        </div>
        {list.data?.database.status === 'unreachable' && (
          <p class="muted" role="status">
            The database cannot be read: only the instance you are connected to is listed.
          </p>
        )}
        <Card flush title="Instances" sub="Each instance’s own view of the database and Redis at its last heartbeat.">
          {!list.data ? (
            <Loading rows={3} label="Loading instances" />
          ) : rows.length === 0 ? (
            <Empty icon="monitor" title="No instance has written a heartbeat yet" />
          ) : (
            <TableWrap>
              <table data-testid="instances">
                <thead>
                  <tr>
                    <th scope="col">Instance</th>
                    <th scope="col">State</th>
                    <th scope="col" class="hide-sm">
                      Version
                    </th>
                    <th scope="col" class="num hide-sm">
                      Uptime
                    </th>
                    <th scope="col" class="num">
                      In flight
                    </th>
                    <th scope="col" class="hide-sm">
                      Last seen
                    </th>
                    <th scope="col" class="hide-sm">
                      Database
                    </th>
                    <th scope="col" class="hide-sm">
                      Redis
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((i) => (
                    <tr key={i.id}>
                      <td>
                        <div class="cell-main mono ellipsis instance-id" title={i.id}>
                          {i.id}
                        </div>
                        <div class="cell-sub">
                          {i.self ? 'this instance' : `pid ${i.pid}`}
                          {i.worker !== null && `, worker ${i.worker}`}
                          {i.listen && <span class="hide-sm"> · {i.listen}</span>}
                        </div>
                        {trouble(i) && <div class="problem">{trouble(i)}</div>}
                      </td>
                      <td>
                        <Badge tone={STATE_TONE[i.state]}>{i.state}</Badge>
                      </td>
                      <td class="hide-sm">{i.version}</td>
                      <td class="num hide-sm">{span(i.uptime_seconds * 1000)}</td>
                      <td class="num">{count(i.in_flight)}</td>
                      <td class="hide-sm" title={dateTime(i.last_seen_at)}>
                        {relative(i.last_seen_at, now)}
                      </td>
                      <td class="hide-sm">{dependency(i.database)}</td>
                      <td class="hide-sm">{dependency(i.redis)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </Card>
      </div>
    </>
  );
}

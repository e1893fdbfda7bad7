import { useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import type { TokenWithUsage } from '../api/types';
import {
  LimitsFields,
  type LimitsState,
  limitsBody,
  limitsFrom,
  limitsProblems,
  limitsSummary,
} from '../components/limits-form';
import {
  Button,
  Card,
  Confirm,
  Dialog,
  ErrorNote,
  Loading,
  PageHead,
  Segmented,
  Stat,
  StatusBadge,
  TextField,
  toast,
} from '../components/ui';
import { UsageChart } from '../components/usage-chart';
import { UsageRecords } from '../components/usage-records';
import { compact, count, dateTime, ms, relative, span, usd } from '../lib/format';
import { useLoad, useNow, useTitle } from '../lib/hooks';
import { useSubmit } from '../lib/hooks.js';
import { RANGES, type RangeKey, windowOf } from '../lib/range';
import * as v from '../lib/validate';
import { href } from '../router';

/** Start of the budget's current UTC period (what the limiter counts against). */
function periodStart(period: 'total' | 'day' | 'month', now: number): number | undefined {
  const d = new Date(now);
  if (period === 'day') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  return undefined;
}

function periodEnd(period: 'day' | 'month', now: number): number {
  const d = new Date(now);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The token and what it has spent in its budget's current period, polled while the page is open. */
async function loadLive(id: string) {
  const token = await ok(api.GET('/manage/tokens/{id}', { params: { path: { id } } }));
  const start = periodStart(token.budget_period, Date.now());
  const spentNano =
    token.budget_usd === null
      ? null
      : start === undefined
        ? token.usage.cost_nano_usd
        : (await ok(api.GET('/manage/usage', { params: { query: { token_id: id, from: String(start) } } }))).totals
            .cost_nano_usd;
  return { token, spentNano };
}

function LiveStats({ token, spentNano }: { token: TokenWithUsage; spentNano: number | null }) {
  const now = useNow(1000);
  const remaining = token.max_requests === null ? null : Math.max(0, token.max_requests - token.request_count);
  const budgetNano = token.budget_usd === null ? null : Math.round(token.budget_usd * 1e9);
  const left = budgetNano === null || spentNano === null ? null : Math.max(0, budgetNano - spentNano);
  const expiresIn = token.expires_at ? Date.parse(token.expires_at) - now : null;
  return (
    <div class="grid grid-4" aria-live="polite">
      <Stat
        label="Remaining requests"
        testId="remaining-requests"
        value={remaining === null ? 'no cap' : count(remaining)}
        sub={
          token.max_requests === null
            ? `${count(token.request_count)} used`
            : `${count(token.request_count)} of ${count(token.max_requests)} used`
        }
        meter={token.max_requests ? token.request_count / token.max_requests : undefined}
      />
      <Stat
        label="Budget left"
        testId="budget-left"
        // As precise as the spend: $5.00 less $0.00200105 reads $4.99799895, not a budget untouched.
        value={left === null ? 'no budget' : usd(left / 1e9, { alongside: (spentNano ?? 0) / 1e9 })}
        sub={
          budgetNano === null
            ? `${usd(token.usage.cost_usd)} spent in total`
            : `${usd((spentNano ?? 0) / 1e9, { exact: true })} of ${usd(token.budget_usd, { exact: true })} ${
                token.budget_period === 'total'
                  ? 'lifetime'
                  : `this ${token.budget_period}, resets in ${span(periodEnd(token.budget_period, now) - now)}`
              }`
        }
        meter={budgetNano ? (spentNano ?? 0) / budgetNano : undefined}
      />
      <Stat
        label="Time to expiry"
        testId="time-to-expiry"
        value={expiresIn === null ? 'never expires' : expiresIn <= 0 ? 'expired' : span(expiresIn)}
        sub={token.expires_at ? dateTime(token.expires_at) : 'no expiry set'}
      />
      <Stat
        label="Last used"
        value={token.last_used_at ? relative(token.last_used_at, now) : 'never'}
        sub={`created ${dateTime(token.created_at)}`}
      />
    </div>
  );
}

export function TokenPage({ id }: { id: string }) {
  const live = useLoad(() => loadLive(id), [id], 3_000);
  const [range, setRange] = useState<RangeKey>('7d');
  const usage = useLoad(
    () => {
      const w = windowOf(range);
      return ok(
        api.GET('/manage/usage', {
          params: { query: { token_id: id, group_by: w.bucket, from: String(w.from), to: String(w.to) } },
        }),
      ).then((r) => ({ r, w }));
    },
    [id, range],
    10_000,
  );
  const project = useLoad(async () => {
    const t = live.data?.token;
    return t ? ok(api.GET('/manage/projects/{id}', { params: { path: { id: t.project_id } } })) : undefined;
  }, [live.data?.token.project_id]);
  const [dialog, setDialog] = useState<'edit' | 'revoke' | 'reactivate' | undefined>();
  const t = live.data?.token;
  useTitle(t?.name ?? 'Token');

  if (!t || !live.data) {
    return (
      <>
        <PageHead title="Token" crumbs={<a href={href('/tokens')}>Tokens</a>} />
        {live.error ? (
          <ErrorNote error={live.error} onRetry={live.reload} />
        ) : (
          <Loading rows={6} label="Loading the token" />
        )}
      </>
    );
  }
  return (
    <>
      <PageHead
        title={t.name ?? 'Unnamed token'}
        crumbs={
          <>
            <a href={href('/tokens')}>Tokens</a> ·{' '}
            <a href={href(`/projects/${t.project_id}`)}>{project.data?.name ?? 'project'}</a>
          </>
        }
        sub={
          <span class="row">
            <StatusBadge status={t.status} />
            <code>{t.token_hint}</code>
          </span>
        }
      >
        {can('operator') && (
          <>
            <Button onClick={() => setDialog('edit')}>Edit</Button>
            {t.is_active ? (
              <Button variant="danger" onClick={() => setDialog('revoke')}>
                Revoke
              </Button>
            ) : (
              t.revoked_at && <Button onClick={() => setDialog('reactivate')}>Reactivate</Button>
            )}
          </>
        )}
      </PageHead>
      <div class="stack">
        <ErrorNote error={live.error} onRetry={live.reload} />
        <LiveStats token={t} spentNano={live.data.spentNano} />
        <Card
          title="Usage"
          sub={`Per ${windowOf(range).bucket}`}
          actions={<Segmented label="Time range" value={range} options={RANGES.slice(1)} onChange={setRange} />}
        >
          {!usage.data ? (
            <Loading rows={4} label="Loading usage" />
          ) : usage.data.r.totals.requests === 0 ? (
            <p class="muted">No requests in this range.</p>
          ) : (
            <UsageChart
              entries={usage.data.r.data}
              window={usage.data.w}
              metric="requests"
              height={200}
              since={{ at: t.created_at, what: 'the token' }}
            />
          )}
        </Card>
        <div class="grid grid-2">
          <Card title="Lifetime usage">
            <dl class="kv" data-testid="token-usage">
              <dt>Requests</dt>
              <dd>
                {count(t.usage.requests)} ({count(t.usage.errors)} errors)
              </dd>
              <dt>Tokens</dt>
              <dd>
                {compact(t.usage.total_tokens)} ({compact(t.usage.prompt_tokens)} in,{' '}
                {compact(t.usage.completion_tokens)} out)
              </dd>
              <dt>Cost</dt>
              <dd>{usd(t.usage.cost_usd)}</dd>
              <dt>Average time</dt>
              <dd>{ms(t.usage.avg_duration_ms)}</dd>
            </dl>
          </Card>
          <Card title="Limits" sub="The project’s limits apply too">
            <dl class="kv">
              {limitsSummary(t).flatMap(([k, val]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{val}</dd>])}
            </dl>
          </Card>
        </div>
        <UsageRecords tokenId={t.id} />
      </div>
      {dialog === 'edit' && (
        <EditTokenDialog
          token={t}
          onClose={() => setDialog(undefined)}
          onSaved={() => {
            setDialog(undefined);
            toast('Token saved.');
            live.reload();
          }}
        />
      )}
      <Confirm
        open={dialog === 'revoke'}
        title="Revoke this token?"
        confirmLabel="Revoke token"
        danger
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          await ok(api.DELETE('/manage/tokens/{id}', { params: { path: { id: t.id } } }));
          toast('Token revoked.');
          live.reload();
        }}
      >
        The proxy refuses it from its next request, on every instance. You can reactivate it later; its usage history
        stays.
      </Confirm>
      <Confirm
        open={dialog === 'reactivate'}
        title="Reactivate this token?"
        confirmLabel="Reactivate"
        onClose={() => setDialog(undefined)}
        onConfirm={async () => {
          await ok(api.PATCH('/manage/tokens/{id}', { params: { path: { id: t.id } }, body: { is_active: true } }));
          toast('Token reactivated.');
          live.reload();
        }}
      >
        Whoever holds the token can use the proxy again (within its expiry and limits).
      </Confirm>
    </>
  );
}

function EditTokenDialog(props: { token: TokenWithUsage; onClose: () => void; onSaved: () => void }) {
  const t = props.token;
  const [name, setName] = useState(t.name ?? '');
  const [extend, setExtend] = useState('');
  const [limits, setLimits] = useState<LimitsState>(limitsFrom(t));
  const problems = { name: v.tokenName(name), extend: v.durationMinutes(extend), ...limitsProblems(limits) };
  const { show, busy, error, submit } = useSubmit(
    () => Boolean(v.firstProblem(problems)),
    async () => {
      await ok(
        api.PATCH('/manage/tokens/{id}', {
          params: { path: { id: t.id } },
          body: {
            name: name.trim() || null,
            ...(extend ? { duration_minutes: Number(extend) } : {}),
            ...limitsBody(limits),
          },
        }),
      );
      props.onSaved();
    },
  );
  const p = show ? problems : ({} as Partial<typeof problems>);
  return (
    <Dialog
      open
      wide
      title="Edit token"
      sub="Changes apply from the token’s next request."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="edit-token" busy={busy}>
            Save changes
          </Button>
        </>
      }
    >
      <form id="edit-token" class="form" onSubmit={submit} noValidate>
        <div class="form-grid">
          <TextField label="Name" name="token_name" value={name} onInput={setName} problem={p.name} />
          <TextField
            label="New lifetime from now (minutes)"
            name="extend"
            inputMode="numeric"
            value={extend}
            onInput={setExtend}
            problem={p.extend}
            hint={
              t.expires_at
                ? `Now expires ${relative(t.expires_at)}. Empty keeps it.`
                : 'Now never expires. Empty keeps it.'
            }
          />
        </div>
        <LimitsFields value={limits} onChange={setLimits} problems={problems} show={show} subject="token" />
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

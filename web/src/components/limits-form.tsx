/** The limit fields tokens and projects share, as form state (strings) ↔ API values. */
import type { Limits } from '../api/types';
import { usd } from '../lib/format';
import * as v from '../lib/validate';
import { SelectField, TextField } from './ui';

export interface LimitsState {
  max_requests: string;
  requests_per_minute: string;
  tokens_per_minute: string;
  max_concurrent: string;
  budget_usd: string;
  budget_period: 'total' | 'day' | 'month';
  allowed_models: string;
  allowed_endpoints: string;
}

export const emptyLimits = (): LimitsState => ({
  max_requests: '',
  requests_per_minute: '',
  tokens_per_minute: '',
  max_concurrent: '',
  budget_usd: '',
  budget_period: 'total',
  allowed_models: '',
  allowed_endpoints: '',
});

const str = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

export const limitsFrom = (l: Limits): LimitsState => ({
  max_requests: str(l.max_requests),
  requests_per_minute: str(l.requests_per_minute),
  tokens_per_minute: str(l.tokens_per_minute),
  max_concurrent: str(l.max_concurrent),
  budget_usd: str(l.budget_usd),
  budget_period: l.budget_period,
  allowed_models: (l.allowed_models ?? []).join(', '),
  allowed_endpoints: (l.allowed_endpoints ?? []).join('\n'),
});

export function limitsProblems(s: LimitsState): Record<string, v.Problem> {
  return {
    max_requests: v.positiveInt(s.max_requests),
    requests_per_minute: v.positiveInt(s.requests_per_minute, 1e12),
    tokens_per_minute: v.positiveInt(s.tokens_per_minute, 1e12),
    max_concurrent: v.positiveInt(s.max_concurrent, 1e6),
    budget_usd: v.budget(s.budget_usd),
    allowed_models: v.globList(s.allowed_models, false),
    allowed_endpoints: v.globList(s.allowed_endpoints, true),
  };
}

const intOrNull = (t: string) => (t.trim() === '' ? null : Number(t));
const listOrNull = (t: string) => {
  const items = v.listItems(t);
  return items.length === 0 ? null : items;
};

/** The API body of the limits: an empty field means "no limit" (null). */
export function limitsBody(s: LimitsState): Limits {
  return {
    max_requests: intOrNull(s.max_requests),
    requests_per_minute: intOrNull(s.requests_per_minute),
    tokens_per_minute: intOrNull(s.tokens_per_minute),
    max_concurrent: intOrNull(s.max_concurrent),
    budget_usd: s.budget_usd.trim() === '' ? null : Number(s.budget_usd),
    budget_period: s.budget_period,
    allowed_models: listOrNull(s.allowed_models),
    allowed_endpoints: listOrNull(s.allowed_endpoints),
  };
}

export function LimitsFields(props: {
  value: LimitsState;
  onChange: (s: LimitsState) => void;
  problems: Record<string, v.Problem>;
  show: boolean;
  subject: 'token' | 'project';
}) {
  const s = props.value;
  const set =
    <K extends keyof LimitsState>(k: K) =>
    (val: LimitsState[K]) =>
      props.onChange({ ...s, [k]: val });
  const p = props.show ? props.problems : {};
  const none = 'Empty for no limit.';
  return (
    <fieldset class="stack">
      <legend>Limits</legend>
      <p class="muted small">
        {props.subject === 'project'
          ? 'A ceiling over all the project’s tokens together. Empty fields mean no limit.'
          : 'Checked on every request, before it is forwarded; the project’s limits apply too. Empty fields mean no limit.'}
      </p>
      <div class="form-grid">
        <TextField
          label="Request cap (lifetime)"
          inputMode="numeric"
          value={s.max_requests}
          onInput={set('max_requests')}
          problem={p.max_requests}
          hint={none}
          name="max_requests"
        />
        <TextField
          label="Requests per minute"
          inputMode="numeric"
          value={s.requests_per_minute}
          onInput={set('requests_per_minute')}
          problem={p.requests_per_minute}
          hint="Bursts up to the limit."
          name="requests_per_minute"
        />
        <TextField
          label="Tokens per minute"
          inputMode="numeric"
          value={s.tokens_per_minute}
          onInput={set('tokens_per_minute')}
          problem={p.tokens_per_minute}
          hint="Estimated up front, settled on actual use."
          name="tokens_per_minute"
        />
        <TextField
          label="Requests in flight at once"
          inputMode="numeric"
          value={s.max_concurrent}
          onInput={set('max_concurrent')}
          problem={p.max_concurrent}
          hint="Streams included."
          name="max_concurrent"
        />
        <TextField
          label="Budget (USD)"
          inputMode="decimal"
          value={s.budget_usd}
          onInput={set('budget_usd')}
          problem={p.budget_usd}
          hint="Requests are refused once it is spent."
          name="budget_usd"
        />
        <SelectField
          label="Budget period"
          value={s.budget_period}
          onChange={(val) => set('budget_period')(val as LimitsState['budget_period'])}
          options={[
            { value: 'total', label: 'Lifetime' },
            { value: 'day', label: 'Per UTC day' },
            { value: 'month', label: 'Per UTC month' },
          ]}
          name="budget_period"
        />
        <TextField
          label="Allowed models"
          value={s.allowed_models}
          onInput={set('allowed_models')}
          problem={p.allowed_models}
          placeholder="gpt-4o*, gpt-4.1-mini"
          hint="Globs, comma-separated. Empty allows all."
          name="allowed_models"
        />
        <TextField
          label="Allowed endpoints"
          value={s.allowed_endpoints}
          onInput={set('allowed_endpoints')}
          problem={p.allowed_endpoints}
          placeholder="POST /v1/chat/*, /v1/embeddings"
          hint='"METHOD /path" or "/path" globs. Empty allows all.'
          name="allowed_endpoints"
        />
      </div>
    </fieldset>
  );
}

/** The limits in words, for detail pages. */
export function limitsSummary(l: Limits): Array<[string, string]> {
  const n = (x: number | null) => (x === null ? 'none' : x.toLocaleString('en-US'));
  return [
    ['Request cap', n(l.max_requests)],
    ['Requests / minute', n(l.requests_per_minute)],
    ['Tokens / minute', n(l.tokens_per_minute)],
    ['In flight at once', n(l.max_concurrent)],
    [
      'Budget',
      l.budget_usd === null
        ? 'none'
        : `${usd(l.budget_usd, { exact: true })} ${l.budget_period === 'total' ? 'lifetime' : `per ${l.budget_period}`}`,
    ],
    ['Models', l.allowed_models ? l.allowed_models.join(', ') : 'all'],
    ['Endpoints', l.allowed_endpoints ? l.allowed_endpoints.join(', ') : 'all'],
  ];
}

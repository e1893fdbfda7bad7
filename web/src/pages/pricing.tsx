import { useState } from 'preact/hooks';
import { can } from '../api/auth';
import { api, ok } from '../api/client';
import type { Price } from '../api/types';
import {
  Badge,
  Button,
  Card,
  Confirm,
  Dialog,
  Empty,
  ErrorNote,
  Loading,
  PageHead,
  TableWrap,
  TextField,
  toast,
} from '../components/ui';
import { dateTime, usd } from '../lib/format';
import { useLoad, useTitle } from '../lib/hooks';
import { useSubmit } from '../lib/hooks.js';
import * as v from '../lib/validate';

/** A price's source by the API's own name (as `llm-proxy pricing list --source` takes it), with a tone. */
const SOURCE_TONE: Record<string, 'muted' | 'accent' | 'ok'> = { built_in: 'muted', file: 'accent', override: 'ok' };

/** A rate per 1M tokens is set, not measured: every decimal it has, as currency ($0.40, $0.075). */
const rate = (n: number | null) => (n === null ? <span class="muted">–</span> : usd(n, { exact: true }));

export function PricingPage() {
  useTitle('Pricing');
  const table = useLoad(() => ok(api.GET('/manage/pricing')), []);
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<Price | 'new' | undefined>();
  const [removing, setRemoving] = useState<Price | undefined>();
  const rows = (table.data?.data ?? []).filter((p) => p.model.toLowerCase().includes(search.toLowerCase()));
  return (
    <>
      <PageHead
        title="Pricing"
        sub={`US dollars per 1M tokens. Sources: built_in (the table that comes with llm-proxy, as of ${table.data?.as_of ?? '…'}), file (PRICING_FILE), override (set here or with llm-proxy pricing set; applies to the next request).`}
      >
        {can('admin') && (
          <Button variant="primary" icon="plus" onClick={() => setEditing('new')}>
            Set a price
          </Button>
        )}
      </PageHead>
      <Card flush>
        <div class="toolbar">
          <div class="field">
            <label for="price-search">Filter models</label>
            <input
              id="price-search"
              class="input"
              type="search"
              value={search}
              onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
              placeholder="gpt-4o"
            />
          </div>
        </div>
        <ErrorNote error={table.error} onRetry={table.reload} />
        {!table.data ? (
          <Loading rows={8} label="Loading prices" />
        ) : rows.length === 0 ? (
          <Empty icon="pricing" title="No model matches" />
        ) : (
          <TableWrap>
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Source</th>
                  <th scope="col" class="num">
                    Input
                  </th>
                  <th scope="col" class="num">
                    Cached input
                  </th>
                  <th scope="col" class="num">
                    Output
                  </th>
                  <th scope="col" class="num hide-sm">
                    Reasoning
                  </th>
                  {can('admin') && (
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.model}>
                    <td class="cell-main">{p.model}</td>
                    <td>
                      <Badge tone={SOURCE_TONE[p.source]} plain>
                        {p.source}
                      </Badge>
                      {p.updated_at && <div class="cell-sub">{dateTime(p.updated_at)}</div>}
                    </td>
                    <td class="num">{rate(p.input)}</td>
                    <td class="num">{rate(p.cached_input)}</td>
                    <td class="num">{rate(p.output)}</td>
                    <td class="num hide-sm">{rate(p.reasoning)}</td>
                    {can('admin') && (
                      <td class="num">
                        <div class="row">
                          <Button size="sm" onClick={() => setEditing(p)} aria-label={`Edit the price of ${p.model}`}>
                            Edit
                          </Button>
                          {p.source === 'override' && (
                            <Button
                              size="sm"
                              onClick={() => setRemoving(p)}
                              aria-label={`Remove the override of ${p.model}`}
                            >
                              Remove
                            </Button>
                          )}
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Card>
      {table.data && Object.keys(table.data.aliases).length > 0 && (
        <p class="muted small">
          Aliases priced as another model:{' '}
          {Object.entries(table.data.aliases)
            .map(([a, b]) => `${a} → ${b}`)
            .join(', ')}
          .
        </p>
      )}
      {editing && (
        <PriceDialog
          price={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={(m) => {
            setEditing(undefined);
            toast(`Price of ${m} saved; it applies to the next request.`);
            table.reload();
          }}
        />
      )}
      <Confirm
        open={removing !== undefined}
        title={`Remove the override of ${removing?.model}?`}
        confirmLabel="Remove override"
        onClose={() => setRemoving(undefined)}
        onConfirm={async () => {
          if (!removing) return;
          await ok(api.DELETE('/manage/pricing/{model}', { params: { path: { model: removing.model } } }));
          toast(`${removing.model} is priced from the pricing files again.`);
          table.reload();
        }}
      >
        The model falls back to its built_in or file price (PRICING_FILE), or to no price (its requests are then
        recorded with an unknown cost).
      </Confirm>
    </>
  );
}

function PriceDialog(props: { price?: Price | undefined; onClose: () => void; onSaved: (model: string) => void }) {
  const p = props.price;
  const [model, setModel] = useState(p?.model ?? '');
  const [input, setInput] = useState(p ? String(p.input) : '');
  const [cached, setCached] = useState(p?.cached_input === null || !p ? '' : String(p.cached_input));
  const [output, setOutput] = useState(p ? String(p.output) : '');
  const [reasoning, setReasoning] = useState(p?.reasoning === null || !p ? '' : String(p.reasoning));
  const problems = {
    model: v.modelName(model),
    input: v.price(input, true),
    cached: v.price(cached, false),
    output: v.price(output, true),
    reasoning: v.price(reasoning, false),
  };
  const { show, busy, error, submit } = useSubmit(
    () => Boolean(v.firstProblem(problems)),
    async () => {
      await ok(
        api.PUT('/manage/pricing/{model}', {
          params: { path: { model } },
          body: {
            input: Number(input),
            output: Number(output),
            ...(cached ? { cached_input: Number(cached) } : {}),
            ...(reasoning ? { reasoning: Number(reasoning) } : {}),
          },
        }),
      );
      props.onSaved(model);
    },
  );
  const s = show ? problems : ({} as Partial<typeof problems>);
  return (
    <Dialog
      open
      title={p ? `Price of ${p.model}` : 'Set a price'}
      sub="An override replaces the model’s price whole, from the next request. Recorded costs do not change."
      onClose={props.onClose}
      footer={
        <>
          <Button onClick={props.onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="price-form" busy={busy}>
            Save price
          </Button>
        </>
      }
    >
      <form id="price-form" class="form" onSubmit={submit} noValidate>
        {!p && (
          <TextField
            label="Model"
            value={model}
            onInput={setModel}
            problem={s.model}
            placeholder="llama-3-local"
            hint="As clients send it."
            autoFocus
          />
        )}
        <div class="form-grid">
          <TextField label="Input ($ / 1M)" inputMode="decimal" value={input} onInput={setInput} problem={s.input} />
          <TextField
            label="Output ($ / 1M)"
            inputMode="decimal"
            value={output}
            onInput={setOutput}
            problem={s.output}
          />
          <TextField
            label="Cached input ($ / 1M)"
            inputMode="decimal"
            value={cached}
            onInput={setCached}
            problem={s.cached}
            hint="Empty: same as input."
          />
          <TextField
            label="Reasoning ($ / 1M)"
            inputMode="decimal"
            value={reasoning}
            onInput={setReasoning}
            problem={s.reasoning}
            hint="Empty: same as output."
          />
        </div>
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

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

/** What a model is billed by besides text tokens, in a few words (empty for text-only models). */
function otherUnits(p: Price): string[] {
  const out: string[] = [];
  const pair = (label: string, a: number | null, b: number | null) => {
    if (a !== null || b !== null) out.push(`${label} ${a === null ? '–' : `$${a}`} / ${b === null ? '–' : `$${b}`}`);
  };
  pair('Audio in/out', p.audio_input, p.audio_output);
  pair('Image in/out', p.image_input, p.image_output);
  if (p.per_image) {
    for (const [size, qualities] of Object.entries(p.per_image)) {
      out.push(
        `${size}: ${Object.entries(qualities)
          .map(([q, n]) => `${q} $${n}`)
          .join(', ')} per image`,
      );
    }
  }
  if (p.per_minute !== null) out.push(`$${p.per_minute} per minute`);
  if (p.per_1m_characters !== null) out.push(`$${p.per_1m_characters} per 1M characters`);
  for (const [tier, r] of Object.entries(p.tiers ?? {})) {
    out.push(
      `${tier}: ${r.input === undefined ? '' : `in $${r.input}`}${r.output === undefined ? '' : ` out $${r.output}`}`,
    );
  }
  return out;
}

/** An optional price field's value as the form holds it. */
const field = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

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
        sub={`US dollars per 1M tokens, per image, minute or character where a model is billed so. Sources: built_in (the table that comes with llm-proxy, as of ${table.data?.as_of ?? '…'}), file (PRICING_FILE), override (set here or with llm-proxy pricing set; applies to the next request).`}
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
                  <th scope="col" class="hide-sm">
                    Other units
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
                    <td class="hide-sm small">
                      {otherUnits(p).map((u) => (
                        <div key={u}>{u}</div>
                      ))}
                    </td>
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
      {table.data && (Object.keys(table.data.tools).length > 0 || Object.keys(table.data.service_tiers).length > 0) && (
        <p class="muted small" data-testid="tool-fees">
          Tool fees per 1k calls (on top of tokens):{' '}
          {Object.entries(table.data.tools)
            .map(
              ([tool, t]) =>
                `${tool} $${t.per_1k_calls}${Object.entries(t.models ?? {})
                  .map(([m, fee]) => ` (${m} $${fee})`)
                  .join('')}`,
            )
            .join(', ')}
          . Service tiers, as a multiple of the standard token rates:{' '}
          {Object.entries(table.data.service_tiers)
            .map(([tier, m]) => `${tier} ×${m}`)
            .join(', ')}
          .
        </p>
      )}
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
  const [audioIn, setAudioIn] = useState(field(p?.audio_input));
  const [audioOut, setAudioOut] = useState(field(p?.audio_output));
  const [imageIn, setImageIn] = useState(field(p?.image_input));
  const [imageOut, setImageOut] = useState(field(p?.image_output));
  const [perMinute, setPerMinute] = useState(field(p?.per_minute));
  const [perChars, setPerChars] = useState(field(p?.per_1m_characters));
  const problems = {
    model: v.modelName(model),
    input: v.price(input, true),
    cached: v.price(cached, false),
    output: v.price(output, true),
    reasoning: v.price(reasoning, false),
    audioIn: v.price(audioIn, false),
    audioOut: v.price(audioOut, false),
    imageIn: v.price(imageIn, false),
    imageOut: v.price(imageOut, false),
    perMinute: v.price(perMinute, false),
    perChars: v.price(perChars, false),
  };
  const opt = (k: string, value: string) => (value ? { [k]: Number(value) } : {});
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
            ...opt('audio_input', audioIn),
            ...opt('audio_output', audioOut),
            ...opt('image_input', imageIn),
            ...opt('image_output', imageOut),
            ...opt('per_minute', perMinute),
            ...opt('per_1m_characters', perChars),
            // Kept as they are: edited through the API or `llm-proxy pricing set`.
            ...(p?.cached_audio_input == null ? {} : { cached_audio_input: p.cached_audio_input }),
            ...(p?.cached_image_input == null ? {} : { cached_image_input: p.cached_image_input }),
            ...(p?.per_image ? { per_image: p.per_image } : {}),
            ...(p?.tiers ? { tiers: p.tiers } : {}),
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
          <TextField
            label="Audio input ($ / 1M)"
            inputMode="decimal"
            value={audioIn}
            onInput={setAudioIn}
            problem={s.audioIn}
            hint="Empty: same as input."
          />
          <TextField
            label="Audio output ($ / 1M)"
            inputMode="decimal"
            value={audioOut}
            onInput={setAudioOut}
            problem={s.audioOut}
            hint="Empty: same as output."
          />
          <TextField
            label="Image input ($ / 1M)"
            inputMode="decimal"
            value={imageIn}
            onInput={setImageIn}
            problem={s.imageIn}
            hint="Empty: same as input."
          />
          <TextField
            label="Image output ($ / 1M)"
            inputMode="decimal"
            value={imageOut}
            onInput={setImageOut}
            problem={s.imageOut}
            hint="Empty: same as output."
          />
          <TextField
            label="Per minute of audio ($)"
            inputMode="decimal"
            value={perMinute}
            onInput={setPerMinute}
            problem={s.perMinute}
            hint="When the answer reports no tokens (whisper-1)."
          />
          <TextField
            label="Per 1M characters ($)"
            inputMode="decimal"
            value={perChars}
            onInput={setPerChars}
            problem={s.perChars}
            hint="Speech, when the answer reports no tokens (tts-1)."
          />
        </div>
        {(p?.per_image || p?.tiers) && (
          <p class="muted small">
            Its per-image prices and service-tier rates are kept as they are; change them with the API or llm-proxy
            pricing set.
          </p>
        )}
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

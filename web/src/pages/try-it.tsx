import { useRef, useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { ApiError, describeError, toApiError } from '../api/errors';
import type { TokenWithUsage, UsageRecord } from '../api/types';
import { Button, Card, Checkbox, ErrorNote, PageHead, TextField } from '../components/ui';
import { count, ms, usd } from '../lib/format';
import { handedOff } from '../lib/handoff';
import { useTitle } from '../lib/hooks';
import { sseData } from '../lib/sse';
import { href } from '../router';

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

interface Result {
  status: number;
  headers: Array<[string, string]>;
  text: string;
  usage?: Usage;
  ms: number;
  model?: string;
}

const SHOWN_HEADERS = /^(x-llm-proxy-|server-timing|x-ratelimit-|retry-after|x-request-id|openai-|content-type)/;

interface Recorded {
  record: UsageRecord;
  token: TokenWithUsage;
}

/**
 * What the proxy recorded for the request, found by the request id it answered with, so it works
 * for any token the signed-in user may see (issued here or pasted): the API waits for the usage
 * writer (it writes in batches, within about a second). Then the token, for its request count.
 */
async function recordOf(requestId: string): Promise<Recorded | undefined> {
  const res = await api.GET('/manage/usage/records/{id}', {
    params: { path: { id: requestId }, query: { wait_ms: 10_000 } },
  });
  if (res.response.status === 404) return undefined;
  const record = await ok(Promise.resolve(res));
  const token = await ok(api.GET('/manage/tokens/{id}', { params: { path: { id: record.token_id } } }));
  return { record, token };
}

/**
 * Sends one chat completion through this server's proxy (/v1) with a token, the way an SDK would,
 * and shows the streamed reply, the response headers and the usage the proxy recorded. The page's
 * own session cookie is never sent to /v1 (`credentials: 'omit'`): only the token authorises it.
 */
export function TryItPage() {
  useTitle('Try it');
  const handed = handedOff();
  const [token, setToken] = useState(handed?.token ?? '');
  const [model, setModel] = useState('gpt-4o-mini');
  const [prompt, setPrompt] = useState('Say hello in five words.');
  const [stream, setStream] = useState(true);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | undefined>();
  const [error, setError] = useState<unknown>();
  const [recorded, setRecorded] = useState<Recorded | 'not yet' | undefined>();
  const [show, setShow] = useState(false);
  const abort = useRef<AbortController | undefined>();

  const problems = {
    token: token.trim() === '' ? 'Paste a proxy token (sk-llmp-…).' : undefined,
    model: model.trim() === '' ? 'A model is required.' : undefined,
    prompt: prompt.trim() === '' ? 'Write a message.' : undefined,
  };

  const send = async (e: Event) => {
    e.preventDefault();
    setShow(true);
    if (problems.token || problems.model || problems.prompt) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    setRecorded(undefined);
    const ctrl = new AbortController();
    abort.current = ctrl;
    const started = performance.now();
    try {
      const res = await fetch('/v1/chat/completions', {
        method: 'POST',
        credentials: 'omit',
        signal: ctrl.signal,
        headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: model.trim(),
          messages: [{ role: 'user', content: prompt }],
          stream,
          ...(stream ? { stream_options: { include_usage: true } } : {}),
        }),
      });
      const headers = [...res.headers.entries()].filter(([k]) => SHOWN_HEADERS.test(k));
      const base: Result = { status: res.status, headers, text: '', ms: 0 };
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        setResult({ ...base, ms: performance.now() - started });
        throw toApiError(res, body);
      }
      if (stream && res.body) {
        let text = '';
        let usage: Usage | undefined;
        let m: string | undefined;
        for await (const data of sseData(res.body)) {
          if (data === '[DONE]') break;
          const chunk = JSON.parse(data) as {
            model?: string;
            choices?: Array<{ delta?: { content?: string } }>;
            usage?: Usage;
          };
          m ??= chunk.model;
          text += chunk.choices?.[0]?.delta?.content ?? '';
          if (chunk.usage) usage = chunk.usage;
          setResult({ ...base, text, usage, model: m, ms: performance.now() - started });
        }
        setResult({ ...base, text, usage, model: m, ms: performance.now() - started });
      } else {
        const body = (await res.json()) as {
          model?: string;
          choices?: Array<{ message?: { content?: string } }>;
          usage?: Usage;
        };
        setResult({
          ...base,
          text: body.choices?.[0]?.message?.content ?? '',
          usage: body.usage,
          model: body.model,
          ms: performance.now() - started,
        });
      }
      const requestId = res.headers.get('x-llm-proxy-request-id');
      if (requestId) setRecorded((await recordOf(requestId)) ?? 'not yet');
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
    } finally {
      setBusy(false);
      abort.current = undefined;
    }
  };

  const p = show ? problems : ({} as Partial<typeof problems>);
  return (
    <>
      <PageHead
        title="Try it"
        sub="Send a chat request through the proxy with a token, as an SDK would, and see what comes back."
      />
      <div class="grid grid-2">
        <Card title="Request">
          <form class="form" onSubmit={send} noValidate>
            <TextField
              label="Proxy token"
              name="try_token"
              type="password"
              value={token}
              onInput={setToken}
              problem={p.token}
              hint={
                handed
                  ? `The token you just issued${handed.name ? ` (${handed.name})` : ''} is filled in.`
                  : 'Tokens are shown once, when issued: paste one.'
              }
            />
            <TextField label="Model" name="try_model" value={model} onInput={setModel} problem={p.model} />
            <div class="field">
              <label for="try-prompt">Message</label>
              <textarea
                id="try-prompt"
                class="textarea"
                value={prompt}
                aria-invalid={p.prompt ? 'true' : undefined}
                onInput={(e) => setPrompt((e.target as HTMLTextAreaElement).value)}
              />
              {p.prompt && <div class="problem">{p.prompt}</div>}
            </div>
            <Checkbox label="Stream the reply" checked={stream} onChange={setStream} />
            <div class="row">
              <Button variant="primary" type="submit" busy={busy} icon="play">
                Send
              </Button>
              {busy && <Button onClick={() => abort.current?.abort()}>Stop</Button>}
            </div>
          </form>
        </Card>
        <Card
          title="Reply"
          sub={
            result
              ? `HTTP ${result.status} · ${ms(result.ms)}${result.model ? ` · ${result.model}` : ''}`
              : 'Nothing sent yet'
          }
        >
          <div class="stack">
            <div class="reply" aria-live="polite" data-testid="try-reply">
              {result?.text || (
                <span class="muted">
                  {busy ? 'Waiting for the first token…' : 'The reply appears here as it streams.'}
                </span>
              )}
            </div>
            {error !== undefined && (
              <ErrorNote
                error={
                  error instanceof ApiError && error.code === 'invalid_api_key'
                    ? new ApiError(
                        401,
                        'x',
                        `${describeError(error)} The token is unknown, revoked or expired, or its project is inactive.`,
                      )
                    : error
                }
              />
            )}
            {result?.usage && (
              <dl class="kv" data-testid="try-usage">
                <dt>Prompt tokens</dt>
                <dd>{result.usage.prompt_tokens ?? '–'}</dd>
                <dt>Completion tokens</dt>
                <dd>{result.usage.completion_tokens ?? '–'}</dd>
                <dt>Total</dt>
                <dd>{result.usage.total_tokens ?? '–'}</dd>
              </dl>
            )}
            {recorded === 'not yet' ? (
              <p class="small muted" data-testid="try-recorded">
                Not recorded yet: the usage writer had not written this request after 10 s. It shows on the token’s page
                once written.
              </p>
            ) : (
              recorded && (
                <p class="small" data-testid="try-recorded">
                  Recorded: request {count(recorded.token.request_count)} of{' '}
                  {handed?.id === recorded.token.id ? 'this token' : `token ${recorded.token.name ?? 'unnamed'}`},
                  costing{' '}
                  {recorded.record.cost_usd === null ? 'an unknown amount (no price)' : usd(recorded.record.cost_usd)}
                  {recorded.record.total_tokens === null ? '' : ` for ${count(recorded.record.total_tokens)} tokens`}{' '}
                  (project {recorded.record.project_name ?? 'deleted'}).{' '}
                  <a href={href(`/tokens/${recorded.token.id}`)}>Open the token</a>
                </p>
              )
            )}
          </div>
        </Card>
      </div>
      {result && result.headers.length > 0 && (
        <Card title="Response headers" sub="What the proxy added, and the upstream’s rate-limit headers" class="mt">
          <dl class="kv mono" data-testid="try-headers">
            {result.headers.flatMap(([k, v]) => [<dt key={`${k}-k`}>{k}</dt>, <dd key={`${k}-v`}>{v}</dd>])}
          </dl>
        </Card>
      )}
    </>
  );
}

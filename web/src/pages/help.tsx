import { useState } from 'preact/hooks';
import { Card, CodeBlock, CopyButton, PageHead } from '../components/ui';
import { useTitle } from '../lib/hooks';
import { href } from '../router';

/** How to point each SDK at this server: the base URL is this page's own origin plus /v1. */
function snippets(base: string): Array<{ id: string; label: string; code: string }> {
  return [
    {
      id: 'python',
      label: 'Python',
      code: `from openai import OpenAI

client = OpenAI(base_url="${base}", api_key="sk-llmp-…")  # a proxy token
reply = client.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello"}],
)
print(reply.choices[0].message.content)`,
    },
    {
      id: 'node',
      label: 'Node',
      code: `import OpenAI from 'openai';

const client = new OpenAI({ baseURL: '${base}', apiKey: process.env.LLM_PROXY_TOKEN });
const reply = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello' }],
});
console.log(reply.choices[0].message.content);`,
    },
    {
      id: 'curl',
      label: 'curl',
      code: `curl ${base}/chat/completions \\
  -H "Authorization: Bearer $LLM_PROXY_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'`,
    },
    {
      id: 'vercel',
      label: 'Vercel AI SDK',
      code: `import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';

const openai = createOpenAI({ baseURL: '${base}', apiKey: process.env.LLM_PROXY_TOKEN });
const { text } = await generateText({ model: openai('gpt-4o-mini'), prompt: 'Hello' });`,
    },
    {
      id: 'langchain',
      label: 'LangChain',
      code: `from langchain_openai import ChatOpenAI

llm = ChatOpenAI(model="gpt-4o-mini", base_url="${base}", api_key="sk-llmp-…")
print(llm.invoke("Hello").content)`,
    },
    {
      id: 'env',
      label: 'Environment',
      code: `# Most OpenAI clients read these, so many tools work without code changes:
export OPENAI_BASE_URL=${base}
export OPENAI_API_KEY=sk-llmp-…   # a proxy token`,
    },
  ];
}

export function HelpPage() {
  useTitle('Help');
  const base = `${location.origin}/v1`;
  const all = snippets(base);
  const [tab, setTab] = useState(all[0]?.id ?? 'python');
  const current = all.find((s) => s.id === tab) ?? all[0];
  return (
    <>
      <PageHead title="Help" sub="What the parts are, and how to point your code at this proxy." />
      <div class="stack">
        <Card
          title="Connect a client"
          sub={`Any OpenAI SDK works unchanged: the base URL is ${base}, the API key a proxy token.`}
        >
          <div class="stack">
            <div class="tabs" role="tablist" aria-label="Client">
              {all.map((s) => (
                <button
                  key={s.id}
                  type="button"
                  role="tab"
                  id={`tab-${s.id}`}
                  aria-selected={s.id === tab}
                  aria-controls="snippet"
                  tabIndex={s.id === tab ? 0 : -1}
                  onClick={() => setTab(s.id)}
                  onKeyDown={(e) => {
                    const i = all.findIndex((x) => x.id === tab);
                    const next =
                      e.key === 'ArrowRight'
                        ? all[(i + 1) % all.length]
                        : e.key === 'ArrowLeft'
                          ? all[(i - 1 + all.length) % all.length]
                          : undefined;
                    if (next) {
                      setTab(next.id);
                      document.getElementById(`tab-${next.id}`)?.focus();
                    }
                  }}
                >
                  {s.label}
                </button>
              ))}
            </div>
            {current && (
              <div id="snippet" role="tabpanel" aria-labelledby={`tab-${current.id}`} class="stack">
                <CodeBlock label={`${current.label} example`} testId="snippet">
                  {current.code}
                </CodeBlock>
                <div>
                  <CopyButton text={current.code} label="Copy snippet" />
                </div>
              </div>
            )}
          </div>
        </Card>
        <div class="grid grid-3">
          <Card title="Projects">
            <div class="prose">
              <p>
                A project holds one real upstream API key (stored encrypted) and, optionally, an upstream URL for any
                OpenAI-compatible server. Its limits are a ceiling over all its tokens together.
              </p>
              <p>
                <a href={href('/projects')}>Manage projects</a>
              </p>
            </div>
          </Card>
          <Card title="Tokens">
            <div class="prose">
              <p>
                A token is what a client uses as its API key. The proxy checks it, swaps in the project’s key and
                forwards the request unchanged. Tokens expire, can be revoked at once, and are stored only as hashes:
                the plaintext is shown once.
              </p>
              <p>
                <a href={href('/tokens')}>Manage tokens</a>
              </p>
            </div>
          </Card>
          <Card title="Limits">
            <div class="prose">
              <p>
                Request caps (exact, lifetime), requests and tokens per minute, requests in flight, budgets in dollars
                per day, month or lifetime, and model and endpoint allowlists. A request over any limit gets the
                OpenAI-style 429 or 403 its SDK understands.
              </p>
            </div>
          </Card>
        </div>
        <Card title="Good to know">
          <div class="prose">
            <ul>
              <li>
                Usage (tokens, cost, latency) is recorded for every forwarded request and shown within seconds; costs
                come from the Pricing page.
              </li>
              <li>
                Streams work as with OpenAI; the proxy asks the upstream for the usage of each stream and keeps the
                extra chunk from your client.
              </li>
              <li>
                The management API is at <code>{location.origin}/manage</code> (spec:{' '}
                <a href="/manage/openapi.json">openapi.json</a>); the CLI is <code>npx llm-proxy</code>.
              </li>
              <li>
                Health: <a href="/health">/health</a>. Metrics for Prometheus: <code>/metrics</code> with the management
                token.
              </li>
            </ul>
          </div>
        </Card>
      </div>
    </>
  );
}

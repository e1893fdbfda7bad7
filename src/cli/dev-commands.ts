import type { Command } from 'commander';
import { loadClientSettings } from '../config/load.js';
import { mockHelp } from '../mock-upstream/help.js';
import { CliError } from './client.js';
import { io } from './io.js';

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${v}`);
  return n;
};

/** `llm-proxy mock-upstream`: a fake OpenAI API for trying the proxy (and for tests and benchmarks). */
export function mockUpstreamCommand(program: Command): void {
  program
    .command('mock-upstream')
    .description('run a mock OpenAI API (no key or network needed) to try the proxy against')
    .option('--port <n>', 'port (0 = random)', int, 9090)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--api-key <key>', 'require this upstream key (Authorization: Bearer …)')
    .option(
      '--auth-style <style>',
      'how --api-key must arrive: bearer (the default) or api-key (as Azure OpenAI takes it)',
    )
    .option('--latency-ms <n>', 'delay before response headers', int)
    .option('--chunks <n>', 'SSE content chunks per streamed completion', int)
    .option('--ttft-ms <n>', 'delay before the first SSE chunk', int)
    .option('--chunk-delay-ms <n>', 'delay between SSE chunks', int)
    .option('--error-status <code>', 'answer every /v1 request with this status', int)
    .option(
      '--error-rate <fraction>',
      'answer this fraction (0..1) of requests with --error-status (default 500)',
      Number,
    )
    .option('--files-dir <dir>', 'keep uploaded files here (default: a temp dir removed on exit)')
    .option('--hold', 'hold every request as x-mock-hold: 1 does, until POST /__mock/release')
    .option('--rate-limit-remaining-requests <n>', 'x-ratelimit-remaining-requests of every response', int)
    .option('--rate-limit-reset-requests-ms <n>', 'x-ratelimit-reset-requests of every response (ms)', int)
    .option('--rate-limit-remaining-tokens <n>', 'x-ratelimit-remaining-tokens of every response', int)
    .option('--rate-limit-reset-tokens-ms <n>', 'x-ratelimit-reset-tokens of every response (ms)', int)
    .addHelpText('after', mockHelp())
    .action(async (o: Record<string, unknown>) => {
      const { startMockUpstream } = await import('../mock-upstream/index.js');
      let mock: Awaited<ReturnType<typeof startMockUpstream>>;
      try {
        mock = await startMockUpstream(o);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      io().stderr.write(
        `mock OpenAI upstream listening on ${mock.url}\n` +
          `  point the proxy at it: OPENAI_API_URL=${mock.url} npm start\n`,
      );
      const stop = () => void mock.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** `llm-proxy chat`: one chat completion through the proxy, streamed to the terminal (a smoke test). */
export function chatCommand(program: Command): void {
  program
    .command('chat')
    .description('send one chat message through the proxy and stream the reply (a smoke test)')
    .argument('<prompt...>', 'the message')
    .requiredOption('--token <token>', 'a proxy token (sk-llmp-…)')
    .option('--url <url>', 'proxy URL (env LLM_PROXY_URL, default http://localhost:8080)')
    .option('--model <model>', 'model', 'gpt-4o-mini')
    .option('--no-stream', 'wait for the whole reply instead of streaming it')
    .action(async (words: string[], o: { token: string; url?: string; model: string; stream: boolean }) => {
      const base = (o.url ?? loadClientSettings(io().env).url ?? 'http://localhost:8080').replace(/\/+$/, '');
      const body = { model: o.model, messages: [{ role: 'user', content: words.join(' ') }], stream: o.stream };
      let res: Response;
      try {
        res = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      } catch (err) {
        throw new CliError(`cannot reach ${base}: ${(err as Error).cause ?? (err as Error).message}`);
      }
      if (!res.ok) {
        const text = await res.text();
        let message = text;
        try {
          message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
        } catch {}
        throw new CliError(`${res.status}: ${message}`);
      }
      if (!o.stream) {
        const json = (await res.json()) as { choices?: { message?: { content?: string } }[] };
        io().stdout.write(`${json.choices?.[0]?.message?.content ?? ''}\n`);
        return;
      }
      await printStream(res);
      io().stdout.write('\n');
    });
}

async function printStream(res: Response): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl !== -1) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') return;
      try {
        const delta = (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta
          ?.content;
        if (delta) io().stdout.write(delta);
      } catch {}
    }
  }
}

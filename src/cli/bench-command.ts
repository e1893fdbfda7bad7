import type { Command } from 'commander';
import { loadClientSettings } from '../config/load.js';
import { CliError } from './client.js';
import { io } from './io.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};
const positiveNumber = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}`);
  return n;
};
const collect = (v: string, all: string[] = []) => [...all, v];

/** `llm-proxy bench`: load generator, direct-versus-proxy comparison, and report comparison. */
export function benchCommand(program: Command): void {
  program
    .command('bench')
    .description('load-test an OpenAI-compatible endpoint, or compare the upstream directly with the proxy')
    .argument('[url]', 'target base URL (env LLM_PROXY_URL, default http://localhost:8080)')
    .option('-e, --endpoint <name|path>', 'chat, completions, responses, embeddings, models, or a path like /v1/files')
    .option('-X, --method <method>', 'HTTP method (default: the endpoint’s, else POST with a body, GET without)')
    .option('--body <template>', 'request body template, e.g. \'{"model":"{{model}}","input":"{{random_prompt}}"}\'')
    .option('-b, --body-file <file>', 'request body template from a file (see bench/templates/)')
    .option('--model <model>', 'value of {{model}} (default: the endpoint’s usual model)')
    .option('--stream', 'set "stream": true in chat/completions/responses bodies and measure the SSE stream')
    .option('-t, --token <token>', 'sent as Authorization: Bearer <token> (the proxy token when comparing)')
    .option('-H, --header <header>', 'extra request header "Name: value" (repeatable)', collect)
    .option('-c, --concurrency <n>', 'connections = requests in flight (default 10)', positiveInt)
    .option('-n, --requests <n>', 'stop after this many requests (per target)', positiveInt)
    .option('-d, --duration <time>', 'stop after this long per target, e.g. 10s, 500ms, 2m (default 10s)')
    .option('-r, --rate <n>', 'open loop: send n requests per second whatever the responses do', positiveNumber)
    .option('--timeout <time>', 'per-request headers and body idle timeout (default 30s)')
    .option('-p, --profile <name|file>', 'short-chat, long-stream, embeddings-batch, mixed, or a JSON profile file')
    .option('--label <name>', 'name of the target in reports (default "run")')
    .option('--direct <url>', 'compare: the upstream, called directly (baseline)')
    .option('--proxy <url>', 'compare: the proxy in front of that upstream')
    .option('--direct-token <token>', 'compare: the upstream’s own key for --direct (default: --token)')
    .option(
      '--against <name=url>',
      'compare: another reference, e.g. nginx=http://127.0.0.1:8081, or old=http://127.0.0.1:8082,token=sk-llmp-… with a token of its own (repeatable)',
      collect,
    )
    .option('--rounds <n>', 'compare: alternating rounds (default 5)', positiveInt)
    .option('--warmup <time>', 'unmeasured load per target first (default 1s when comparing, else 0)')
    .option('--json <file|->', 'write the JSON report to a file, or - for stdout')
    .option('--csv <file|->', 'write the CSV report (label,target,metric,stat,value) to a file, or - for stdout')
    .option('-q, --quiet', 'no progress bar and no table')
    .option('--compare <files...>', 'compare two JSON reports: --compare A.json B.json')
    .addHelpText(
      'after',
      '\nTemplate variables: {{seq}} {{uuid}} {{random_int[:min:max]}} {{random_word}} {{random_prompt[:words]}}\n' +
        '{{timestamp}} {{iso_time}} {{model}} {{stream}}.\n\nExamples:\n' +
        '  llm-proxy bench http://localhost:8080 -t sk-llmp-… -e chat -c 8 -d 10s\n' +
        '  llm-proxy bench http://localhost:8080 -t sk-llmp-… --profile mixed --json run.json\n' +
        '  llm-proxy bench --direct http://127.0.0.1:9090 --direct-token sk-… --proxy http://localhost:8080 -t sk-llmp-… -c 32\n' +
        '  llm-proxy bench --compare before.json after.json\n' +
        '\nDocumentation: docs/benchmarks.md',
    )
    .action(async (url: string | undefined, o: Record<string, unknown>) => {
      const { benchCommand: run, compareCommand, BenchCommandError } = await import('../bench/command.js');
      try {
        if (o.compare !== undefined) {
          compareCommand(o.compare as string[], o);
          return;
        }
        await run(
          { ...o, ...(url === undefined ? {} : { url }) },
          { stdout: io().stdout, stderr: io().stderr, defaultUrl: loadClientSettings(io().env).url },
        );
      } catch (err) {
        if (err instanceof BenchCommandError) throw new CliError(err.message);
        throw err;
      }
    });
}

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocCommand, docCommands } from './doc-commands.js';
import { type DocEnv, startDocEnv } from './doc-env.js';
import { normalise, shapes } from './output-shape.js';

/*
 * Every command in the README and docs/ runs as pasted, in order, from a fresh start (defect 15 of
 * issue 18: a README example got a 400, another used a fixed project id and got a 404). Each file is
 * a walkthrough of its own: a new temporary folder, the mock upstream and a server started as the
 * quick start starts one (doc-env.ts), and one shell in which the file's commands run one after the
 * other, so the variables a command sets (PROJECT_ID=$(…)) are there for the next. Where a doc shows
 * what a command prints, the real output must have the same shape (output-shape.ts).
 *
 * What differs from a reader's terminal, and why:
 * - the server and the mock listen on free ports, so `localhost:8080` and `127.0.0.1:9090` in a
 *   command are replaced by their real addresses, and LLM_PROXY_URL points the CLI at the server;
 * - `npx llm-proxy` and `llm-proxy` run this build's CLI, and OPENAI_API_KEY is a made-up key;
 * - curl fails on an HTTP error status and a pipeline fails with any of its stages, so a command
 *   that gets an error is seen (the ones the docs show failing on purpose are listed in FAILS).
 */

/**
 * Commands that are not run, each with the reason. A command in the docs that is not here is run,
 * so a new one is tested by default; an entry no doc has any more fails the test.
 */
const NOT_RUN: Record<string, string> = {
  'npm install && npm start':
    'installs the dependencies and starts the server: the test starts `llm-proxy serve` itself, as `npm start` does, in a fresh folder',
  'npm test': 'runs this test suite',
  'docker build -t llm-proxy:0.1.0 --build-arg VERSION="$(node -p \'require("./package.json").version\')" --build-arg REVISION="$(git rev-parse HEAD)" --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .':
    'needs a Docker engine (test/deploy checks the Dockerfile and reproduces its runtime stage)',
  'docker run -d --name llm-proxy --read-only --cap-drop ALL --security-opt no-new-privileges --env-file llm-proxy.env -p 127.0.0.1:8080:8080 -v llm-proxy-data:/data --stop-timeout 40 --memory 512m -e NODE_OPTIONS=--max-semi-space-size=16 llm-proxy':
    'needs a Docker engine (test/deploy runs the image’s entry point from a read-only install as its user)',
  "docker inspect --format '{{.State.Health.Status}}' llm-proxy":
    'needs a Docker engine (test/deploy runs the image’s health check command against a server)',
  'docker exec llm-proxy llm-proxy project list': 'needs a Docker engine',
  'docker run --rm --env-file llm-proxy.env -v llm-proxy-data:/data llm-proxy audit verify': 'needs a Docker engine',
  'npx llm-proxy mock-upstream': 'runs until stopped: the test starts the mock upstream itself, on a free port',
  'OPENAI_API_URL=http://127.0.0.1:9090 npm start':
    'runs until stopped: the test starts the server itself, pointed at its mock upstream the same way',
  'node dist/cli/main.js serve --listen 127.0.0.1:8080 --data-dir /var/lib/llm-proxy':
    'runs until stopped, as a second server beside the test’s (and writes to /var/lib)',
  'node --env-file=.env dist/cli/main.js serve': 'runs until stopped, as a second server beside the test’s',
  '15 3 * * * cd /srv/llm-proxy && npx llm-proxy maintenance >> /var/log/llm-proxy-maintenance.log 2>&1':
    'a crontab line, not a command',
  "npx llm-proxy logs --status '>=400' --since 1h data/app.log*":
    'reads the log files of a server started with LOG_FILE=data/app.log; the test’s server logs to stdout, as the quick start’s does',
  'npx llm-proxy admin-user add alice --role admin': 'prompts for a password on the terminal',
  'npx llm-proxy admin-user passwd alice': 'prompts for a password on the terminal',
  // docs/compose.md and docs/kubernetes.md: no Docker engine and no cluster here. What the commands
  // start is checked by test/deploy/compose.test.ts and kubernetes.test.ts (schemas, nginx -t, promtool).
  'cd deploy/compose/single': 'a folder of a clone of the repository; the test’s shell starts in an empty folder',
  'cd deploy/compose/scale-out': 'a folder of a clone of the repository; the test’s shell starts in an empty folder',
  'docker compose up -d --build --wait': 'needs a Docker engine',
  'docker compose build': 'needs a Docker engine',
  'docker compose run --rm migrate': 'needs a Docker engine',
  'docker compose up -d --no-deps --wait proxy-1': 'needs a Docker engine',
  'docker compose up -d --no-deps --wait proxy-2': 'needs a Docker engine',
  'kubectl kustomize deploy/kubernetes/overlays/single':
    'renders from a clone of the repository (test/deploy/kubernetes.test.ts renders both overlays)',
  'kubectl create namespace llm-proxy': 'needs a Kubernetes cluster',
  'kubectl create secret generic llm-proxy --namespace llm-proxy --from-literal=management-token="$(openssl rand -hex 24)" --from-literal=encryption-key="$(openssl rand -base64 32)"':
    'needs a Kubernetes cluster (test/deploy/kubernetes.test.ts checks it creates every key the overlay refers to)',
  'kubectl create secret generic llm-proxy --namespace llm-proxy --from-literal=management-token="$(openssl rand -hex 24)" --from-literal=encryption-key="$(openssl rand -base64 32)" --from-literal=database-url=\'postgres://llm_proxy:PASSWORD@postgres.example.internal:5432/llm_proxy\' --from-literal=redis-url=\'redis://:PASSWORD@redis.example.internal:6379\'':
    'needs a Kubernetes cluster (test/deploy/kubernetes.test.ts checks it creates every key the overlay refers to)',
  "kubectl get secret llm-proxy --namespace llm-proxy -o jsonpath='{.data.encryption-key}' | base64 -d":
    'needs a Kubernetes cluster',
  "kubectl get secret llm-proxy --namespace llm-proxy -o jsonpath='{.data.management-token}' | base64 -d":
    'needs a Kubernetes cluster',
  'kubectl apply -k deploy/kubernetes/overlays/single': 'needs a Kubernetes cluster',
  'kubectl apply -k deploy/kubernetes/overlays/scale-out': 'needs a Kubernetes cluster',
  'kubectl rollout status statefulset/llm-proxy --namespace llm-proxy': 'needs a Kubernetes cluster',
  'kubectl rollout status deployment/llm-proxy --namespace llm-proxy --timeout=15m': 'needs a Kubernetes cluster',
  'kubectl wait job/llm-proxy-migrate --namespace llm-proxy --for=condition=complete --timeout=10m':
    'needs a Kubernetes cluster',
  'kubectl delete job llm-proxy-migrate --namespace llm-proxy --ignore-not-found': 'needs a Kubernetes cluster',
  'kubectl port-forward service/llm-proxy 8080:80 --namespace llm-proxy': 'needs a Kubernetes cluster',
  'helm template llm-proxy deploy/helm/llm-proxy --namespace llm-proxy -f my-values.yaml':
    'renders from a clone of the repository (test/deploy/helm.test.ts renders the chart with the values of docs/kubernetes.md)',
  'helm install llm-proxy deploy/helm/llm-proxy --namespace llm-proxy -f my-values.yaml --wait --timeout 15m':
    'needs a Kubernetes cluster (test/deploy/helm.test.ts lints and renders the chart with these values)',
  'helm upgrade llm-proxy deploy/helm/llm-proxy --namespace llm-proxy -f my-values.yaml --wait --timeout 15m':
    'needs a Kubernetes cluster',
  'llm-proxy bench http://localhost:8080 -t "$TOKEN" -e chat -c 8 -d 10s':
    'a 10 s load test (`llm-proxy bench` itself is tested in test/bench)',
  'llm-proxy bench http://localhost:8080 -t "$TOKEN" -b bench/templates/chat-stream-usage.json -c 32 -d 30s --json run.json --csv run.csv':
    'a 30 s load test, with a template from a clone of the repository',
  'llm-proxy bench http://localhost:8080 -t "$TOKEN" --rate 500 -c 64 -d 20s': 'a 20 s load test',
  'llm-proxy bench --direct http://127.0.0.1:9090 --direct-token "$UPSTREAM_KEY" --proxy http://127.0.0.1:8080 -t "$TOKEN" --against nginx=http://127.0.0.1:8081 -c 32 -d 10s':
    'a load test in rounds against nginx, which the test does not run',
  'llm-proxy bench --compare before.json after.json': 'compares the reports of two earlier load tests',
  'npm run bench': 'the benchmark harness: minutes of load with nginx and wrk, from a clone',
  'npm run bench -- --quick': 'the benchmark harness (30 s of load with nginx), from a clone',
  'npm run bench:soak': 'a soak test of minutes, from a clone',
  'npm run bench:big-db': 'a benchmark of minutes, from a clone',
  'npm run bench:floor': 'a benchmark of minutes with nginx and wrk, from a clone',
  'npm run bench:floor -- --rounds 6 --duration 5s': 'a benchmark of minutes with nginx and wrk, from a clone',
  'npm run bench:floor -- --before ../old/dist/cli/main.js': 'a benchmark of minutes, against another build',
  'npm run bench:floor -- --before-tracing': 'a benchmark of minutes with nginx and wrk, from a clone',
  'npm run bench:tracing': 'a benchmark of a minute, from a clone',
  'npm run bench:key-choice': 'a benchmark of a minute, from a clone',
  'npm run bench:h2 -- --rounds 7 --duration 4s': 'a benchmark of minutes with wrk, from a clone',
  'npm run bench:scaleout': 'a benchmark of minutes with PostgreSQL, Redis, nginx and wrk, from a clone',
  'npm run bench:scaleout -- --rounds 10 --duration 5s': 'a benchmark of minutes, from a clone',
  'npm run bench:scaleout -- --quick':
    'half a minute of load with PostgreSQL, Redis and nginx (test/bench/scaleout.test.ts runs it)',
  'npm run bench:scaleout -- --wait-quiet 5m': 'a benchmark of minutes, from a clone',
  'npm run bench:scaleout -- --cli ../other/dist/cli/main.js': 'a benchmark of minutes, against another build',
  'npm pack':
    'builds the package from a clone (test/deploy runs the packed tarball: installed with production dependencies, started, and run with npx)',
  'npx --yes --package ./llm-proxy-0.1.0.tgz llm-proxy serve':
    'runs until stopped, installing the tarball’s dependencies from the npm registry (test/deploy runs the packed tarball)',
  'docker build -t llm-proxy .':
    'needs a Docker engine (test/deploy checks the Dockerfile and reproduces its runtime stage)',
  'docker run -d --name llm-proxy -p 127.0.0.1:8080:8080 -v llm-proxy-data:/data llm-proxy': 'needs a Docker engine',
  'docker logs llm-proxy': 'needs a Docker engine',
  'curl -si https://proxy.example.com/manage/oidc/login':
    'needs an OpenID Connect provider (test/access/oidc.test.ts signs in through a real one)',
  "curl -s 'https://proxy.example.com/manage/oidc/callback?code=abc&state=xyz'":
    'needs an OpenID Connect provider (test/access/oidc.test.ts runs the callback and its failures)',
};

/** Commands the docs show failing on purpose: they must fail (exit code other than 0). */
const FAILS: Record<string, string> = {
  'curl -s http://localhost:8080/v1/models -H "Authorization: Bearer $LLM_PROXY_TOKEN" -H \'x-mock-status: 429\'':
    'shows the mock upstream’s 429 passing through the proxy',
  "curl -s -X POST http://localhost:8080/manage/tokens/revoke -H \"$H\" -H 'content-type: application/json' -d '{}'":
    'shows that revoking by filter needs a filter (400)',
  'curl -s -X DELETE -H "$H" http://localhost:8080/manage/pricing/gpt-4o':
    'shows the 404 for a model without a pricing override',
};

/** Samples of output whose text is not compared with a real run, each with the reason. */
const UNCOMPARED: Record<string, string> = {
  'sqlite3 -header -column data/llm-proxy.db "select path, status, is_stream, model, prompt_tokens, completion_tokens, total_tokens, duration_ms, error from usage_records order by id"':
    'usage records are written within USAGE_FLUSH_INTERVAL_MS of their requests, so the query right after them may find none yet',
  'llm-proxy audit verify':
    'the sample is from a server with 1843 audit events; a fresh one has none, and says so without a range',
};

/**
 * With DOCS_OUTPUT_DIR set, each command's real output is also written there (one file per command,
 * named after its file and line), to refresh the samples in the docs from a real run.
 */
const OUTPUT_DIR = process.env.DOCS_OUTPUT_DIR;
if (OUTPUT_DIR) mkdirSync(OUTPUT_DIR, { recursive: true });

const DOCS = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

const byFile = new Map(DOCS.map((f) => [f, docCommands(f)]));

/** What the docs' commands use besides llm-proxy (a reader needs them too). */
const TOOLS = ['bash', 'curl', 'jq', 'sqlite3', 'openssl'];

it('the tools the docs use are installed', () => {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  expect(missing, 'install them (Debian: apt-get install jq sqlite3 …) to run the docs’ commands').toEqual([]);
});

/** The command with the addresses of this run. */
function localised(text: string, env: DocEnv): string {
  const port = new URL(env.url).port;
  return text
    .replaceAll('localhost:8080', `localhost:${port}`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`)
    .replaceAll('http://127.0.0.1:9090', env.mockUrl);
}

const where = (c: DocCommand) => `${c.file}:${c.line}`;

for (const [file, commands] of byFile) {
  const runnable = commands.filter((c) => NOT_RUN[c.key] === undefined);
  if (runnable.length === 0) continue;

  // Each file has its own folder, servers and shell, and spends its time waiting on them: the files
  // run side by side (up to vitest's maxConcurrency), the commands of one file one after the other.
  describe(`the commands of ${file}, in order, from a fresh start`, { concurrent: true }, () => {
    let env: DocEnv;
    beforeAll(async () => {
      env = await startDocEnv(file);
    });
    afterAll(async () => {
      await env?.close();
    });

    if (file === 'README.md') {
      it('the start banner shown is the one the server prints', { concurrent: false }, () => {
        const sample = bannerSample(file);
        const real = env.banner.replaceAll(env.cwd, '/path/to/llm-proxy').replaceAll(env.url, 'http://localhost:8080');
        expect(normalise(real)).toEqual(normalise(sample));
      });
    }

    for (const c of runnable) {
      it(`${where(c)}: ${c.key}`, { concurrent: false }, async () => {
        const r = await env.shell.run(localised(c.text, env));
        const failing = FAILS[c.key] !== undefined;
        if (failing !== (r.code !== 0))
          throw new Error(
            `${where(c)}: exit code ${r.code}${failing ? ' (the docs show it failing)' : ''}\n` +
              `$ ${c.text}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
          );
        if (OUTPUT_DIR) writeFileSync(path.join(OUTPUT_DIR, `${c.file.replace('/', '-')}-${c.line}.txt`), r.stdout);
        if (c.output && UNCOMPARED[c.key] === undefined) {
          const shape = shapes(c.output.text, c.output.lang, r.stdout);
          expect(shape.real, `the output ${where(c)} shows; the real one:\n${r.stdout}`).toEqual(shape.sample);
        }
      });
    }
  });
}

/** The README's sample of the start banner: the text block that starts with "llm-proxy is running". */
function bannerSample(file: string): string {
  const text = readFileSync(file, 'utf8');
  const m = /```text\n(\s*llm-proxy is running[\s\S]*?)```/.exec(text);
  if (!m?.[1]) throw new Error(`${file} shows no start banner`);
  return m[1];
}

describe('the lists of commands not run, failing or not compared', () => {
  it('name only commands the docs have', () => {
    const keys = new Set([...byFile.values()].flat().map((c) => c.key));
    const stale = [...Object.keys(NOT_RUN), ...Object.keys(FAILS), ...Object.keys(UNCOMPARED)].filter(
      (k) => !keys.has(k),
    );
    expect(stale).toEqual([]);
  });
});

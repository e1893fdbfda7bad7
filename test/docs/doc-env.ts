import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI } from '../helpers/cli.js';
import { keepOutput, registerSecret } from '../helpers/secret-watch.js';
import { DocShell } from './doc-shell.js';

/** Output of a child process so far, and a wait for a pattern in it (or for the process to end). */
function watch(child: ChildProcess, stream: 'stdout' | 'stderr') {
  let text = '';
  const waiters: (() => void)[] = [];
  child[stream]?.on('data', (c: Buffer) => {
    text += c.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  let ended = false;
  child.on('close', () => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    text: () => text,
    until: (re: RegExp) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const check = () => {
          const m = re.exec(text);
          if (m) resolve(m);
          else if (ended) reject(new Error(`process ended before ${re} appeared:\n${text}`));
          else waiters.push(check);
        };
        check();
      }),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

function script(file: string, body: string): void {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

export interface DocEnv {
  /** The folder the commands run in (the server's working directory, with its ./data). */
  cwd: string;
  /** The server's origin, `http://localhost:<port>`. */
  url: string;
  /** The mock upstream's origin. */
  mockUrl: string;
  /** What the server printed on stderr at start. */
  banner: string;
  shell: DocShell;
  close(): Promise<void>;
}

/**
 * A fresh start, as the quick start makes one, in a new temporary folder: the mock upstream
 * (`llm-proxy mock-upstream`, on a free port) and the server (`llm-proxy serve` as `npm start`
 * runs it, on every interface and a free port, pointed at the mock by OPENAI_API_URL), and a shell
 * in that folder where `npx llm-proxy` and `llm-proxy` are this build's CLI. `close` stops them all
 * and removes the folder.
 */
export async function startDocEnv(label: string): Promise<DocEnv> {
  const root = mkdtempSync(path.join(tmpdir(), 'llmp-docs-'));
  const cwd = path.join(root, 'work');
  const bin = path.join(root, 'bin');
  const scratch = path.join(root, 'output');
  for (const d of [cwd, bin, scratch]) mkdirSync(d);
  const node = process.execPath;
  script(path.join(bin, 'llm-proxy'), `exec "${node}" "${CLI}" "$@"`);
  script(
    path.join(bin, 'npx'),
    `if [ "$1" = llm-proxy ]; then shift; exec "${node}" "${CLI}" "$@"; fi\necho "npx $*: the docs test runs only npx llm-proxy" >&2; exit 127`,
  );
  script(
    path.join(bin, 'npm'),
    `echo "npm $*: not run by the docs test (list it in NOT_RUN with a reason)" >&2; exit 127`,
  );

  const children: ChildProcess[] = [];
  const close = async () => {
    await Promise.all(children.map(stop));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const basePath = `${bin}:${process.env.PATH ?? ''}`;
    const mock = spawn(node, [CLI, 'mock-upstream', '--port', '0'], { cwd: root, env: { PATH: basePath } });
    children.push(mock);
    const mockUrl = (await watch(mock, 'stderr').until(/listening on (http:\S+)/))[1] as string;

    const server = spawn(node, [CLI, 'serve'], {
      cwd,
      env: { PATH: basePath, OPENAI_API_URL: mockUrl, LISTEN_ADDR: ':0' },
    });
    children.push(server);
    const log = watch(server, 'stdout');
    const err = watch(server, 'stderr');
    // The log, not the banner: the banner shows the management token it generated, by design.
    server.on('close', () => keepOutput(`${label}: serve`, log.text()));
    const port =
      (await log.until(/"msg":"llm-proxy listening"/)) && /"url":"http:\/\/[^"]*:(\d+)"/.exec(log.text())?.[1];
    // The banner is one write, after the listening line.
    await err.until(/llm-proxy is running/);
    registerSecret(readFileSync(path.join(cwd, 'data', 'management-token'), 'utf8').trim());

    const url = `http://localhost:${port}`;
    const shell = new DocShell(cwd, scratch, {
      PATH: basePath,
      HOME: root,
      LANG: 'C.UTF-8',
      // Where the CLI's client commands find the server (the docs' default is :8080).
      LLM_PROXY_URL: url,
      // What the quick start assumes a reader has: an OpenAI key (the mock accepts any).
      OPENAI_API_KEY: 'sk-proj-docs-test-0000000000000000',
      // …and, for the key pool examples, an Azure OpenAI key (the keys there go to no upstream).
      AZURE_OPENAI_API_KEY: 'azure-docs-test-000000000000001234',
    });
    const closeAll = async () => {
      await shell.close();
      await close();
    };
    return { cwd, url, mockUrl, banner: err.text(), shell, close: closeAll };
  } catch (e) {
    await close();
    throw e;
  }
}

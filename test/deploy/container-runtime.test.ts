import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { UPSTREAM_KEY, until } from '../helpers/proxy.js';
import { keepOutput, registerSecret } from '../helpers/secret-watch.js';
import { callManage } from '../helpers/server.js';
import { execForm, instructionsOf, parseDockerfile, properties } from './dockerfile.js';
import {
  installLikeTheImage,
  makeReadOnly,
  npxFromTarball,
  packProject,
  snapshot,
  type Workspace,
} from './packed-install.js';

/**
 * The container's runtime stage reproduced without Docker: the npm package installed the way the
 * Dockerfile's `app` stage installs it, made read-only, and started with the image's ENTRYPOINT and
 * CMD as the image's USER (when the tests run as root, as in CI; as the current user otherwise), with
 * a writable DATA_DIR and temp folder of that user's. It must serve, stop cleanly on SIGTERM, pass
 * the image's HEALTHCHECK, and write nothing outside its data folder: with `docker run --read-only`
 * there is nowhere else. And `npx llm-proxy`, from the packed tarball in an empty folder, runs.
 */
const VERSION: string = JSON.parse(readFileSync('package.json', 'utf8')).version;
const IMAGE = parseDockerfile(readFileSync('Dockerfile', 'utf8')).final;
const run = promisify(execFile);

/** The image's USER as uid and gid (the rules test checks it is numeric and not root). */
function imageUser(): { uid: number; gid: number } {
  const [uid = '', gid = uid] = (instructionsOf(IMAGE, 'USER').at(-1)?.getArgumentsContent() ?? '').trim().split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The image's ENTRYPOINT + CMD after tini, with the image's /app being `app` and node this Node.js. */
function imageCommand(app: string): string[] {
  const entrypoint = execForm(instructionsOf(IMAGE, 'ENTRYPOINT').at(-1)) ?? [];
  const cmd = execForm(instructionsOf(IMAGE, 'CMD').at(-1)) ?? [];
  const afterTini = entrypoint.slice(entrypoint.indexOf('--') + 1);
  const workdir = instructionsOf(IMAGE, 'WORKDIR').at(-1)?.getArgumentsContent()?.trim() ?? '/app';
  return [...afterTini, ...cmd].map((a) =>
    a === 'node' ? process.execPath : a.startsWith(`${workdir}/`) ? path.join(app, a.slice(workdir.length)) : a,
  );
}

const asRoot = process.getuid?.() === 0;
const user = asRoot ? imageUser() : undefined;

/** `argv` as the image's user (setpriv: no login, no groups), or as ourselves when not root. */
function asImageUser(argv: string[]): [string, string[]] {
  if (!user) return [argv[0] as string, argv.slice(1)];
  return ['setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', ...argv]];
}

/** A folder owned by the image's user, private to it, as /data is in the image. */
function userDir(dir: string): string {
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  return dir;
}

let ws: Workspace;
let app: string;
let mock: MockUpstream;
/** `npx llm-proxy --version` in an empty folder, run alongside the other test. */
let npx: Promise<{ out: string; empty: string } | { error: unknown }>;

beforeAll(async () => {
  if (!asRoot) console.log('container runtime test: not root, so the server runs as this user, not the image USER');
  ws = await packProject();
  const empty = ws.dir('empty');
  npx = npxFromTarball(ws, empty, ['--version']).then(
    (out) => ({ out, empty }),
    (error: unknown) => ({ error }),
  );
  app = ws.dir('app');
  await installLikeTheImage(ws, app);
  makeReadOnly(app);
  mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
}, 600_000);

afterAll(async () => {
  await mock?.close();
  await npx;
  await ws?.remove();
});

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  output(): string;
}

async function startServer(env: Record<string, string>, cwd: string): Promise<Server> {
  const [cmd, args] = asImageUser(imageCommand(app));
  const child = spawn(cmd, args, { cwd, env });
  let out = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      keepOutput('test/deploy/container-runtime.test.ts: serve', out);
      resolve(code);
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const m = /"url":"(http:[^"]+)".*"msg":"llm-proxy listening"/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    exited.then(() => reject(new Error(`serve exited early:\n${out}`)));
  });
  return { child, url, exited, output: () => out };
}

/** The image's HEALTHCHECK command, run as the image's user against the server's port. */
async function healthcheck(port: string): Promise<number> {
  const argv = execForm(instructionsOf(IMAGE, 'HEALTHCHECK').at(-1)) ?? [];
  const [cmd, args] = asImageUser(argv.map((a) => (a === 'node' ? process.execPath : a)));
  try {
    await run(cmd, args, { env: { PATH: process.env.PATH ?? '', LISTEN_ADDR: `:${port}` } });
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe('the runtime stage, without Docker', () => {
  it('serves the proxy, the admin UI and the management API from a read-only install, as the image user, and stops cleanly', async () => {
    const data = userDir(ws.dir('data'));
    const tmp = userDir(ws.dir('tmp'));
    const before = snapshot(app);
    const managementToken = `mgmt-${randomBytes(24).toString('base64url')}`;
    registerSecret(managementToken);
    const imageEnv = properties(IMAGE, 'ENV');
    expect(imageEnv.get('DATA_DIR')).toBe('/data');

    const server = await startServer(
      {
        PATH: process.env.PATH ?? '',
        // A home that does not exist (the image user's is /nonexistent) and a temp folder to watch.
        HOME: path.join(ws.root, 'no-home'),
        TMPDIR: tmp,
        DATA_DIR: data,
        LISTEN_ADDR: '127.0.0.1:0',
        MANAGEMENT_TOKEN: managementToken,
        OPENAI_API_URL: mock.url,
      },
      app,
    );
    const { url } = server;
    try {
      // Ready, as a load balancer asks.
      let ready: Response | undefined;
      await until(async () => {
        ready = await fetch(`${url}/ready`);
        return ready.status === 200;
      });
      expect(await ready?.json()).toMatchObject({ status: 'ready' });

      // The admin UI: its page and the assets the page names.
      const page = await fetch(`${url}/admin/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
      expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
      for (const asset of assets) {
        const res = await fetch(`${url}${asset}`);
        expect(res.status, asset).toBe(200);
        expect((await res.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
      }

      // A project and a token through the management API, then the official client through the proxy.
      const project = await callManage(url, managementToken, 'POST', '/projects', {
        name: 'container',
        api_key: UPSTREAM_KEY,
      });
      expect(project.status).toBe(201);
      const token = await callManage(url, managementToken, 'POST', '/tokens', {
        project_id: project.body.id,
        duration_minutes: 60,
      });
      expect(token.status).toBe(201);
      registerSecret(token.body.token);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: token.body.token, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hello from the container' }],
      });
      expect(completion.choices[0]?.message.content).toBeTruthy();
      expect(completion.usage?.total_tokens).toBeGreaterThan(0);
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'stream it' }],
        stream: true,
      });
      let streamed = '';
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? '';
      expect(streamed).not.toBe('');

      expect(await healthcheck(new URL(url).port)).toBe(0);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('llm-proxy stopped');
    // Stopped, the healthcheck fails: it can tell.
    expect(await healthcheck(new URL(url).port)).not.toBe(0);

    // Nothing written outside DATA_DIR: the install as it was, the temp folder empty, no home made.
    expect(snapshot(app)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(path.join(ws.root, 'no-home'))).toBe(false);
    // What it did write is in DATA_DIR, owned by the image user.
    const written = readdirSync(data);
    expect(written).toEqual(expect.arrayContaining(['llm-proxy.db', 'encryption.key']));
    if (user) for (const f of written) expect(statSync(path.join(data, f)).uid, f).toBe(user.uid);
  }, 600_000);

  it('`npx llm-proxy` from the packed tarball runs in an empty folder', async () => {
    const result = await npx;
    if ('error' in result) throw result.error;
    expect(result.out.trim()).toBe(VERSION);
    expect(readdirSync(result.empty)).toEqual([]);
  }, 600_000);
});

import { execFile } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The npm package as the container image holds it, built without Docker: `npm pack` of the built
 * project, unpacked into a folder with its production dependencies at package-lock.json's
 * versions, the Dockerfile's `app` stage step for step. Everything lives in one workspace folder
 * that `remove()` deletes.
 */
const run = promisify(execFile);

/** npm of the Node.js running the tests, so the install matches the Node line under test. */
export function npmCommand(): string {
  const beside = path.join(path.dirname(process.execPath), 'npm');
  return existsSync(beside) ? beside : 'npm';
}

export function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  // PATH first names this Node.js, for npm's own scripts and the bins it runs (`#!/usr/bin/env node`).
  const PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  return run(npmCommand(), args, { cwd, env: { ...process.env, PATH }, maxBuffer: 64 * 1024 * 1024 });
}

export interface Workspace {
  root: string;
  /** The packed tarball. */
  tarball: string;
  /** A fresh folder in the workspace, readable by every user. */
  dir(name: string): string;
  remove(): Promise<void>;
}

/**
 * A workspace that other users can enter (the server runs as the image's user in it), holding the
 * tarball `npm pack` made of the built project. It sits beside the run's temp folder rather than
 * in it: that one is private to the user running the tests.
 */
export async function packProject(): Promise<Workspace> {
  for (const built of ['dist/cli/main.js', 'dist/web/index.html']) {
    if (!existsSync(built)) throw new Error(`${built} is missing: build first (npm run build)`);
  }
  const runDir = process.env.LLMP_TEST_RUN_DIR;
  const root = mkdtempSync(path.join(runDir ? path.dirname(runDir) : tmpdir(), 'llmp-container-'));
  chmodSync(root, 0o755);
  const packDir = path.join(root, 'pack');
  mkdirSync(packDir);
  // --ignore-scripts: packing runs `prepare` (a build) otherwise, under the other tests' feet.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], '.');
  const [info] = JSON.parse(stdout) as Array<{ filename: string }>;
  if (!info) throw new Error(`npm pack said: ${stdout}`);
  const tarball = path.join(packDir, info.filename);
  return {
    root,
    tarball,
    dir(name) {
      const d = path.join(root, name);
      mkdirSync(d, { mode: 0o755 });
      chmodSync(d, 0o755);
      return d;
    },
    async remove() {
      // The installed folder was made read-only: give write back to delete it.
      makeWritable(root);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The Dockerfile's `app` stage: the packed files unpacked into `dir`, then `npm ci --omit=dev` with
 * the repository's package-lock.json (no install scripts: none is needed, and `prepare` would try to
 * build), then the parts of better-sqlite3 the image leaves out removed. --prefer-offline: the
 * packages are in npm's cache after the repository's own install.
 */
export async function installLikeTheImage(ws: Workspace, dir: string): Promise<void> {
  await run('tar', ['-xzf', ws.tarball, '--strip-components=1', '-C', dir]);
  cpSync('package-lock.json', path.join(dir, 'package-lock.json'));
  await npm(['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], dir);
  // better-sqlite3 keeps only this platform's prebuilt binary, as in the image.
  const sqlite = path.join(dir, 'node_modules', 'better-sqlite3');
  for (const sub of ['deps', 'src']) rmSync(path.join(sqlite, sub), { recursive: true, force: true });
  const keep = `${process.platform}-${process.arch}.node`;
  for (const f of readdirSync(path.join(sqlite, 'prebuilds'))) {
    if (f !== keep) rmSync(path.join(sqlite, 'prebuilds', f));
  }
}

/**
 * `npx llm-proxy <args>` as a user runs it from the registry, with the packed tarball standing in
 * for the registry's: npm installs the package with its production dependencies into its own npx
 * cache and runs the bin there. Run in `cwd` (an empty folder); the npx install is removed after.
 */
export async function npxFromTarball(ws: Workspace, cwd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await npm(
      [
        'exec',
        '--yes',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        `--package=${ws.tarball}`,
        '--',
        'llm-proxy',
        ...args,
      ],
      cwd,
    );
    return stdout;
  } finally {
    await removeNpxInstalls(ws.tarball);
  }
}

/** npx installs into `<npm cache>/_npx/<hash>/`; those made for `tarball` go (nothing else is touched). */
async function removeNpxInstalls(tarball: string): Promise<void> {
  const cache = (await npm(['config', 'get', 'cache'], '.')).stdout.trim();
  const npx = path.join(cache, '_npx');
  if (!existsSync(npx)) return;
  for (const hash of readdirSync(npx)) {
    const manifest = path.join(npx, hash, 'package.json');
    if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes(JSON.stringify(tarball))) {
      rmSync(path.join(npx, hash), { recursive: true, force: true });
    }
  }
}

/** Every file and folder under `dir` (symlinks not followed): path, type, mode, size, mtime. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.uid}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** `chmod -R a-w`: the installed application folder, as the image's user sees its /app. */
export function makeReadOnly(dir: string): void {
  chmodTree(dir, (mode) => mode & ~0o222);
}

function makeWritable(dir: string): void {
  chmodTree(dir, (mode) => mode | 0o200);
}

function chmodTree(dir: string, change: (mode: number) => number): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const name of readdirSync(dir)) chmodTree(path.join(dir, name), change);
  chmodSync(dir, change(st.mode & 0o7777));
}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unavailable } from '../helpers/services.js';
import { freePort, RedisProcess } from './redis-server.js';

const run = promisify(execFile);

/**
 * A Redis Cluster of `masters` redis-server processes (no replicas) on free ports, each with its
 * own directory for nodes.conf, joined by `redis-cli --cluster create`. `start` resolves once every
 * node reports cluster_state:ok with all 16384 slots assigned; `stop` kills them and removes the
 * directory.
 */
export class OwnRedisCluster {
  private constructor(
    readonly ports: number[],
    private readonly nodes: RedisProcess[],
    private readonly dir: string,
    private readonly password: string | undefined,
    private readonly tls: string | undefined,
  ) {}

  /** A URL of one node (the client discovers the others from it). */
  get url(): string {
    const scheme = this.tls ? 'rediss' : 'redis';
    return `${scheme}://${this.password ? `:${this.password}@` : ''}127.0.0.1:${this.ports[0]}`;
  }

  /**
   * `parent`: where its directory goes (default: the temp folder). `tls`: a directory holding
   * makeCertificates' files: the nodes listen with TLS only (clients need a certificate), and talk
   * to each other with TLS too.
   */
  static async start(
    opts: { masters?: number; password?: string; parent?: string; tls?: string } = {},
  ): Promise<OwnRedisCluster> {
    const n = opts.masters ?? 3;
    const dir = mkdtempSync(path.join(opts.parent ?? tmpdir(), 'llmp-redis-cluster-'));
    const ports: number[] = [];
    const nodes: RedisProcess[] = [];
    const cluster = new OwnRedisCluster(ports, nodes, dir, opts.password, opts.tls);
    try {
      for (let i = 0; i < n; i++) {
        const port = await freePort();
        // The cluster bus defaults to port + 10000, which may be taken or past 65535: a free one.
        const busPort = await freePort();
        ports.push(port);
        nodes.push(
          await RedisProcess.start(
            [
              ...(opts.tls
                ? ['--port', '0', '--tls-port', String(port), ...tlsServerArgs(opts.tls), '--tls-cluster', 'yes']
                : ['--port', String(port)]),
              '--cluster-enabled',
              'yes',
              '--cluster-port',
              String(busPort),
              '--cluster-config-file',
              `nodes-${port}.conf`,
              // Long enough that a loaded test machine is not taken for a failed node.
              '--cluster-node-timeout',
              '15000',
              ...(opts.password ? ['--requirepass', opts.password, '--masterauth', opts.password] : []),
            ],
            dir,
          ),
        );
      }
      // It waits for the nodes to agree; only a hang (nodes that cannot reach each other) meets the timeout.
      await run(
        'redis-cli',
        [
          ...cluster.auth(),
          '--cluster',
          'create',
          ...ports.map((p) => `127.0.0.1:${p}`),
          '--cluster-replicas',
          '0',
          '--cluster-yes',
        ],
        { timeout: 120_000 },
      );
      for (const port of ports) await cluster.waitForOk(port);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private auth(): string[] {
    const tls = this.tls ? tlsClientArgs(this.tls) : [];
    return [...tls, ...(this.password ? ['-a', this.password, '--no-auth-warning'] : [])];
  }

  /** `redis-cli` against one node. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', [...this.auth(), '-p', String(port), ...args]);
    return stdout;
  }

  /** The port of the master serving `key`'s slot. */
  async portOf(key: string): Promise<number> {
    const slot = Number((await this.cli(this.ports[0] as number, 'CLUSTER', 'KEYSLOT', key)).trim());
    const slots = await this.cli(this.ports[0] as number, '--json', 'CLUSTER', 'SLOTS');
    for (const [from, to, master] of JSON.parse(slots) as Array<[number, number, [string, number]]>) {
      if (slot >= from && slot <= to) return master[1];
    }
    throw new Error(`no master serves slot ${slot}`);
  }

  private async waitForOk(port: number): Promise<void> {
    // Gossip reaches every node within a few of its heartbeats; the deadline is only for a hang.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const info = await this.cli(port, 'CLUSTER', 'INFO');
      if (info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384')) return;
      if (Date.now() > deadline) throw new Error(`cluster node ${port} not ok: ${info}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills node `i` (SIGKILL). */
  kill(i: number): Promise<void> {
    return (this.nodes[i] as RedisProcess).kill();
  }

  /** Starts node `i` again on its port, with its nodes.conf (no data: nothing is persisted). */
  restart(i: number): Promise<void> {
    return (this.nodes[i] as RedisProcess).restart();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What `stop` does, synchronously (at the process's exit). */
  stopNow(): void {
    for (const n of this.nodes) n.killNow();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A private CA, a server certificate it signed for 127.0.0.1, a client certificate it signed, and
 * a second CA that signed nothing here (P-256 keys: quick to make).
 */
export async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const key = (name: string) => ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  const ca = async (name: string) => {
    await key(name);
    await ssl(
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-out',
      `${name}.crt`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  const signed = async (name: string, ext: string) => {
    await key(name);
    await ssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    await ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now()),
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  await ca('ca');
  await ca('other-ca');
  // Cluster nodes also present it as clients of each other (the bus over TLS): both uses.
  await signed('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  await signed('client', 'extendedKeyUsage=clientAuth\n');
}

/** redis-server's TLS arguments for makeCertificates' files in `dir` (clients must show a certificate). */
export function tlsServerArgs(dir: string): string[] {
  const f = (name: string) => path.join(dir, name);
  return [
    '--tls-cert-file',
    f('server.crt'),
    '--tls-key-file',
    f('server.key'),
    '--tls-ca-cert-file',
    f('ca.crt'),
    '--tls-auth-clients',
    'yes',
  ];
}

/** redis-cli's TLS arguments for makeCertificates' files in `dir`. */
export function tlsClientArgs(dir: string): string[] {
  const f = (name: string) => path.join(dir, name);
  return ['--tls', '--cacert', f('ca.crt'), '--cert', f('client.crt'), '--key', f('client.key')];
}

/** Whether redis-server and redis-cli are installed (else the reason is printed, or CI fails). */
export async function redisServerAvailable(): Promise<boolean> {
  try {
    await run('redis-server', ['--version']);
    await run('redis-cli', ['--version']);
    return true;
  } catch {
    return unavailable('redis-server or redis-cli is not installed: skipping the tests that start their own');
  }
}

let shared: Promise<OwnRedisCluster> | undefined;

/**
 * One cluster for the whole worker process, for suites that run many short tests against it (the
 * limiter contract suite makes a backend per test; each uses a key prefix of its own). Started on
 * first use, stopped when the worker exits.
 */
export function sharedCluster(): Promise<OwnRedisCluster> {
  if (!shared) {
    // Outside the run's temp folder, whose leftovers fail the run: it goes when the worker does,
    // after that check; the run's folder is removed at the end all the same.
    shared = OwnRedisCluster.start({ parent: process.env.LLMP_TEST_RUN_DIR });
    shared.then(
      (c) => {
        // Vitest ends its workers with SIGTERM, which skips 'exit': stopped there too, then the
        // signal is raised again for its default action.
        const onTerm = () => {
          c.stopNow();
          process.kill(process.pid, 'SIGTERM');
        };
        process.once('exit', () => c.stopNow());
        process.once('SIGTERM', onTerm);
      },
      () => {
        shared = undefined;
      },
    );
  }
  return shared;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadClientSettings } from '../config/load.js';
import { MANAGEMENT_TOKEN_FILE } from '../startup/secret-files.js';
import { io } from './io.js';

export interface ClientOptions {
  url?: string;
  managementToken?: string;
}

export class CliError extends Error {}

/** Talks to a running server's management API, as any other client would. */
export class ManageClient {
  readonly baseUrl: string;
  private readonly token: string;

  constructor(opts: ClientOptions) {
    const settings = loadClientSettings(io().env);
    this.baseUrl = (opts.url ?? settings.url ?? 'http://localhost:8080').replace(/\/+$/, '');
    const token = opts.managementToken ?? settings.managementToken ?? readLocalToken(settings.dataDir);
    if (!token) {
      throw new CliError(
        'No management token: pass --management-token, set MANAGEMENT_TOKEN, or run from the directory whose ./data holds it.',
      );
    }
    this.token = token;
  }

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await this.send(method, route, body);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(`unexpected ${res.status} reply from ${this.baseUrl}: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = (json as { error?: { message?: string; code?: string } }).error;
      throw new CliError(`${res.status} ${e?.code ?? 'error'}: ${e?.message ?? text}`);
    }
    return json as T;
  }

  /** A GET answered in another format than JSON (e.g. `text/csv`); errors still arrive as JSON. */
  async text(route: string, accept: string): Promise<string> {
    const res = await this.send('GET', route, undefined, { accept });
    const text = await res.text();
    if (res.ok) return text;
    let e: { message?: string; code?: string } | undefined;
    try {
      e = (JSON.parse(text) as { error?: { message?: string; code?: string } }).error;
    } catch {}
    throw new CliError(`${res.status} ${e?.code ?? 'error'}: ${e?.message ?? text.slice(0, 200)}`);
  }

  private async send(
    method: string,
    route: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}/manage${route}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.baseUrl}: ${(err as Error).cause ?? (err as Error).message}`);
    }
  }
}

function readLocalToken(dataDir: string): string | undefined {
  try {
    return readFileSync(path.join(dataDir, MANAGEMENT_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

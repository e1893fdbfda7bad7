import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ADMIN_SECURITY_HEADERS } from './security-headers.js';
import type { UiFile } from './ui-files.js';

export interface AdminUiOptions {
  /** The built UI (ui-files.ts), or undefined when it was not built. */
  files: Map<string, UiFile> | undefined;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>llm-proxy admin</title>
<h1>The admin UI is not built</h1>
<p>Run <code>npm run build</code> in the llm-proxy folder (it needs the dev dependencies), then restart.
The management API (<code>/manage</code>) and the CLI work without it.</p>`;

function send(req: FastifyRequest, reply: FastifyReply, file: UiFile): FastifyReply {
  reply.headers(ADMIN_SECURITY_HEADERS);
  reply.header('content-type', file.type);
  // index.html names the current hashed assets: always revalidated, so a new version shows at once.
  reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  reply.header('vary', 'accept-encoding');
  const gzip = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzip : file.body);
}

/**
 * The admin UI at /admin/: its hashed assets, and index.html for every other path below it (the
 * page routes itself). It is a client of /manage only; nothing here reads or changes data.
 */
export async function adminUiRoutes(app: FastifyInstance, opts: AdminUiOptions): Promise<void> {
  const index = opts.files?.get('index.html');
  app.get('/', (_req, reply) => reply.redirect('/admin/', 302));
  app.get('/admin', (_req, reply) => reply.redirect('/admin/', 301));
  app.get('/admin/*', (req, reply) => {
    if (!opts.files || !index) {
      return reply.code(503).headers(ADMIN_SECURITY_HEADERS).type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    const rel = (req.params as { '*': string })['*'];
    const file = opts.files.get(rel);
    if (file) return send(req, reply, file);
    // A missing file (an asset of an older build) is a 404, not the page: a script tag must not get HTML.
    if (rel.startsWith('assets/') || /(^|\/)\.|\.[a-z0-9]+$/i.test(rel)) {
      return reply.code(404).headers(ADMIN_SECURITY_HEADERS).type('text/plain; charset=utf-8').send('Not found\n');
    }
    return send(req, reply, index);
  });
}

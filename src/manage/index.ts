import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { OidcSignOn } from '../access/oidc.js';
import type { SessionsService } from '../access/sessions-service.js';
import type { SignIn } from '../access/sign-in.js';
import type { UsersService } from '../access/users-service.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import { errors } from '../errors.js';
import type { InstancesRegistry } from '../instances/registry.js';
import type { ProjectKeysService } from '../projects/project-keys-service.js';
import type { ProjectsService } from '../projects/projects-service.js';
import type { TokensService } from '../tokens/tokens-service.js';
import type { PricingService } from '../usage/pricing-service.js';
import type { UsageStats } from '../usage/usage-stats.js';
import { auditRoutes } from './audit-routes.js';
import { authenticate } from './auth.js';
import { instancesRoutes } from './instances-routes.js';
import { oidcRoutes } from './oidc-routes.js';
import { pricingRoutes } from './pricing-routes.js';
import { type CooldownsOf, projectKeysRoutes } from './project-keys-routes.js';
import { projectsRoutes } from './projects-routes.js';
import { applyRouteAccess } from './route-access.js';
import { sessionRoutes } from './session-routes.js';
import { sessionsRoutes } from './sessions-routes.js';
import { tokensRoutes } from './tokens-routes.js';
import { usageRoutes } from './usage-routes.js';
import { usersRoutes } from './users-routes.js';

/** Sign-in and access: admin users, sessions, single sign-on (src/access/). */
export interface AccessServices {
  users: UsersService;
  sessions: SessionsService;
  signIn: SignIn;
  /** Undefined without OIDC_ISSUER. */
  oidc: OidcSignOn | undefined;
}

export interface ManageOptions {
  /** Removes a project's entries from the response cache; resolves to how many. */
  purgeCache: (projectId: string) => Promise<number>;
  managementToken: string;
  rateLimitPerMinute: number;
  version: string;
  projects: ProjectsService;
  projectKeys: ProjectKeysService;
  /** A key's cooldowns on this instance, shown with the key. */
  keyCooldowns: CooldownsOf;
  tokens: TokensService;
  usage: UsageStats;
  pricing: PricingService;
  audit: AuditTrail;
  access: AccessServices;
  /** The instances registry (GET /manage/instances). */
  instances: InstancesRegistry;
}

/** The management API, mounted under /manage. Encapsulated: its hooks do not touch the proxy path. */
export async function manageApi(app: FastifyInstance, opts: ManageOptions): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();
  await api.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'llm-proxy management API',
        version: opts.version,
        description:
          'Manage projects (upstream keys), the proxy tokens issued for them, usage statistics, model prices and the audit trail.',
      },
      components: {
        securitySchemes: {
          managementToken: { type: 'http', scheme: 'bearer', description: 'MANAGEMENT_TOKEN (role admin)' },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'llmp_session',
            description: 'The session cookie set by POST /manage/session or the single sign-on callback',
          },
          csrfToken: {
            type: 'apiKey',
            in: 'header',
            name: 'x-csrf-token',
            description: "The session's csrf_token: required with the cookie on POST, PUT, PATCH and DELETE",
          },
        },
      },
      security: [{ managementToken: [] }, { sessionCookie: [], csrfToken: [] }],
    },
    transform: jsonSchemaTransform,
  });

  // Every route gets its rule from ROUTE_ACCESS as it is registered; one without a rule stops the start.
  api.decorateRequest('principal', undefined);
  api.addHook('onRoute', applyRouteAccess);

  // The spec is public: it describes routes, not data, and tooling fetches it without credentials.
  api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await api.register(async (secured) => {
    if (opts.rateLimitPerMinute > 0) {
      // Limit before authentication so guessing the management token is throttled too.
      await secured.register(rateLimit, {
        global: false,
        errorResponseBuilder: (_req, ctx) => errors.managementRateLimited(Math.ceil(ctx.ttl / 1000)),
      });
      // An instance-level hook, added before the auth hook, so it runs first on every route.
      secured.addHook('onRequest', secured.rateLimit({ max: opts.rateLimitPerMinute, timeWindow: 60_000 }));
    }
    secured.addHook(
      'onRequest',
      authenticate({ managementToken: opts.managementToken, sessions: opts.access.sessions, audit: opts.audit }),
    );
    // The API speaks JSON only: anything else is a 415, not a confusing schema error.
    secured.removeContentTypeParser('text/plain');
    // An empty JSON body (curl -X DELETE -H 'content-type: application/json') means "no body".
    secured.removeContentTypeParser('application/json');
    secured.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text as string));
      } catch (err) {
        done(errors.invalidJson((err as Error).message), undefined);
      }
    });
    await secured.register(projectsRoutes(opts.projects, opts.usage, opts.purgeCache));
    await secured.register(projectKeysRoutes(opts.projectKeys, opts.keyCooldowns));
    await secured.register(tokensRoutes(opts.tokens, opts.usage));
    await secured.register(usageRoutes(opts.usage));
    await secured.register(pricingRoutes(opts.pricing));
    await secured.register(auditRoutes(opts.audit));
    await secured.register(instancesRoutes(opts.instances));
    const { users, sessions, signIn, oidc } = opts.access;
    await secured.register(sessionRoutes({ signIn, sessions, users, oidcConfigured: oidc !== undefined }));
    await secured.register(sessionsRoutes(sessions));
    await secured.register(usersRoutes(users));
    await secured.register(oidcRoutes(oidc, signIn));
  });
}

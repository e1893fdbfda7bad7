import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { POSTGRES_URL } from '../helpers/services.js';

/**
 * .github/workflows/ci.yml, for copies of the repository hosted on GitHub: valid against GitHub's
 * own workflow schema (its parser, @actions/workflow-parser, as GitHub's editor tooling uses it),
 * and doing what .ci/run does here: lint and typecheck, the README's test command on the Node.js
 * lines .ci/run tests, with PostgreSQL and Redis where the tests look for them and the tools they
 * drive, and the container image built without a push.
 */

// The parser imports its JSON schema without `with { type: 'json' }`, which only bundlers accept;
// this adds the attribute for that package's JSON files alone.
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    return r.url.includes('/@actions/workflow-parser/') && r.url.endsWith('.json')
      ? { ...r, importAttributes: { type: 'json' } }
      : r;
  },
});
const { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } = await import('@actions/workflow-parser');

const FILE = '.github/workflows/ci.yml';
const text = readFileSync(FILE, 'utf8');

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on': string;
  steps: Step[];
  strategy?: { matrix?: { node?: string[] } };
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[] }>;
}
const workflow = parse(text) as { jobs: Record<string, Job> };
const runs = (job: Job) => job.steps.flatMap((s) => (s.run ?? '').split('\n').map((l) => l.trim()));

describe('the GitHub Actions workflow', () => {
  it("is valid against GitHub's workflow schema", async () => {
    const parsed = parseWorkflow({ name: FILE, content: text }, new NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const template = await convertWorkflowTemplate(parsed.context, parsed.value as NonNullable<typeof parsed.value>);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.map((j) => String(j.id))).toEqual(['lint', 'test', 'image']);
  });

  it('lints and typechecks as the project does', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.lint).toBeDefined();
    expect(runs(workflow.jobs.lint as Job)).toEqual(
      expect.arrayContaining(['npm ci --no-audit --no-fund', 'npm run lint', 'npm run typecheck']),
    );
  });

  it("runs the README's test command on the Node.js lines .ci/run tests", () => {
    const readme = readFileSync('README.md', 'utf8');
    const command = /^(npm test)\s+#/m.exec(readme)?.[1];
    expect(command, 'the README shows how to run the tests').toBe('npm test');
    const test = workflow.jobs.test as Job;
    // As root (sudo), as .ci/run runs, and a missing service fails instead of skipping.
    expect(runs(test)).toContain(`sudo env "PATH=$PATH" REQUIRE_SERVICES=1 ${command}`);

    const ciRun = readFileSync('.ci/run', 'utf8');
    const lines = /^NODE_VERSIONS=\(([^)]*)\)/m.exec(ciRun)?.[1]?.split(/\s+/) ?? [];
    const matrix = test.strategy?.matrix?.node ?? [];
    const major = (v: string) => v.split('.')[0];
    expect(matrix.map(major)).toEqual(lines.map(major));
    // The oldest line is tested at the oldest version package.json's engines allows.
    expect(matrix[0]).toBe(lines[0]);
  });

  it('gives the tests PostgreSQL and Redis where they look for them', () => {
    const services = (workflow.jobs.test as Job).services ?? {};
    const pg = new URL(POSTGRES_URL);
    expect(services.postgres?.ports).toEqual([`${pg.port}:5432`]);
    expect(services.postgres?.env).toMatchObject({
      POSTGRES_HOST_AUTH_METHOD: 'trust',
      POSTGRES_DB: pg.pathname.slice(1),
    });
    expect(pg.username).toBe('postgres');
    expect(services.redis?.ports).toEqual(['6379:6379']);
  });

  it('installs the tools .ci/run installs', () => {
    const ciRun = readFileSync('.ci/run', 'utf8');
    const installed = runs(workflow.jobs.test as Job).join(' ');
    for (const tool of ['wrk', 'nginx', 'prometheus', 'curl', 'jq', 'sqlite3', 'openssl', 'redis-server']) {
      expect(ciRun.includes(tool) || tool === 'redis-server', `${tool} is one .ci/run provides`).toBe(true);
      expect(installed, `the workflow installs ${tool}`).toMatch(new RegExp(`\\b${tool}\\b`));
    }
    expect(installed).toContain('/usr/bin/chromium');
    expect(installed).toContain('bash scripts/install-kubectl.sh');
  });

  it('builds the container image without pushing it', () => {
    const image = workflow.jobs.image as Job;
    const build = image.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ context: '.', push: false });
    expect(image.steps.some((s) => s.uses?.startsWith('docker/setup-buildx-action@'))).toBe(true);
  });
});

describe('the issue templates', () => {
  const form = (file: string) =>
    parse(readFileSync(`.github/ISSUE_TEMPLATE/${file}`, 'utf8')) as {
      name: string;
      description: string;
      body: { type: string; id?: string; attributes: { label?: string; value?: string } }[];
    };

  it('are issue forms with a name, a description and labelled fields', () => {
    for (const file of ['bug_report.yml', 'feature_request.yml']) {
      const f = form(file);
      expect([typeof f.name, typeof f.description]).toEqual(['string', 'string']);
      const fields = f.body.filter((b) => b.type !== 'markdown');
      expect(fields.length).toBeGreaterThan(1);
      for (const b of fields) expect(b.id && b.attributes.label, `${file}: ${b.type}`).toBeTruthy();
      // Security problems are sent to the private channel, not the issue tracker.
      expect(f.body[0]?.attributes.value).toContain('SECURITY.md');
    }
  });

  it('allow no blank issue, and point security reports away from the tracker', () => {
    const config = parse(readFileSync('.github/ISSUE_TEMPLATE/config.yml', 'utf8')) as {
      blank_issues_enabled: boolean;
      contact_links: { name: string; url: string; about: string }[];
    };
    expect(config.blank_issues_enabled).toBe(false);
    expect(config.contact_links.some((l) => /security/i.test(l.name) && l.about.includes('SECURITY.md'))).toBe(true);
    expect(readFileSync('SECURITY.md', 'utf8')).toContain('Report a vulnerability');
  });
});

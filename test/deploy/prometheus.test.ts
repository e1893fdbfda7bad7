import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unavailable } from '../helpers/services.js';

/**
 * Prometheus's own checker (promtool, Debian's `prometheus` package) on what ships: the alert rules
 * are valid and behave as their unit tests say, and the scale-out compose's Prometheus config is
 * valid with the rules where compose mounts them.
 */
const PROMTOOL = 'promtool';
const RULES = 'deploy/prometheus/alerts.yml';
const promtool =
  spawnSync(PROMTOOL, ['--version']).status === 0 ||
  unavailable('promtool is not installed (apt-get install prometheus): skipping the Prometheus checks');

const dir = mkdtempSync(path.join(tmpdir(), 'llmp-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { status: number | null; output: string } {
  const res = spawnSync(PROMTOOL, args, { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

/** How many rules alerts.yml has (`- alert:` entries). */
const ruleCount = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: /gm)].length;

describe.skipIf(!promtool)('promtool', () => {
  it('checks the alert rules (promtool check rules)', () => {
    const ok = run('check', 'rules', RULES);
    expect(ok.output).toContain(`SUCCESS: ${ruleCount} rules found`);
    expect(ok.status).toBe(0);
    // The check can fail: a rule with a broken expression is refused.
    const broken = path.join(dir, 'broken.yml');
    writeFileSync(broken, readFileSync(RULES, 'utf8').replace('> 0.05', '> > 0.05'));
    const bad = run('check', 'rules', broken);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/parse error/);
  });

  it('the rules pass their unit tests (promtool test rules deploy/prometheus/alerts.test.yml)', () => {
    const ok = run('test', 'rules', 'deploy/prometheus/alerts.test.yml');
    expect(ok.output).toContain('SUCCESS');
    expect(ok.status).toBe(0);
    // The tests can fail: with the error-rate threshold at 20% the 10% test expects an alert in vain.
    const rules = path.join(dir, 'alerts.yml');
    const tests = path.join(dir, 'alerts.test.yml');
    writeFileSync(rules, readFileSync(RULES, 'utf8').replace('> 0.05\n', '> 0.2\n'));
    copyFileSync('deploy/prometheus/alerts.test.yml', tests);
    const bad = run('test', 'rules', tests);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/FAILED[\s\S]*LlmProxyHighErrorRate/);
  });

  it('checks the scale-out compose’s Prometheus config, with the rules where compose mounts them', () => {
    // /etc/prometheus in the container: prometheus.yml, and alerts.yml under rules/.
    const etc = path.join(dir, 'etc-prometheus');
    mkdirSync(path.join(etc, 'rules'), { recursive: true });
    copyFileSync('deploy/compose/scale-out/prometheus.yml', path.join(etc, 'prometheus.yml'));
    const ok = () => run('check', 'config', path.join(etc, 'prometheus.yml'));
    // Without the rules where the config names them, the check fails.
    const missing = ok();
    expect(missing.status).not.toBe(0);
    expect(missing.output).toMatch(/rules\/alerts\.yml/);
    copyFileSync(RULES, path.join(etc, 'rules', 'alerts.yml'));
    const res = ok();
    expect(res.output).toContain('SUCCESS: 1 rule files found');
    expect(res.output).toContain(`SUCCESS: ${ruleCount} rules found`);
    expect(res.status).toBe(0);
  });
});

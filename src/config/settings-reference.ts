import { z } from 'zod';
import { wrap } from '../shared/doc-text.js';
import { configSchema } from './schema.js';
import {
  CLIENT_SETTING_DOCS,
  CONFIG_FILE_DOC,
  SETTING_DOCS,
  SETTING_GROUPS,
  type SettingDoc,
  type SettingGroup,
} from './settings-docs.js';

/**
 * The settings reference, generated: docs/configuration.md's settings list, the README's short list
 * of the settings a newcomer needs, and `.env.example` (written by `npm run docs`, checked by
 * config-docs.test.ts). Words from settings-docs.ts; the default and the accepted values from the
 * schema itself, so they cannot disagree with what the program does. Links in settings-docs.ts are
 * written from the repository's root (`docs/scaling.md`), as the README and `.env.example` see them;
 * the list in docs/ gets them relative to docs/.
 */

const WIDTH = 100;

export interface SettingFacts {
  name: string;
  doc: SettingDoc;
  /** The schema's default as text, when it has one. */
  default: string | undefined;
  /** What the schema accepts, in words, when it says more than "text". */
  accepts: string | undefined;
}

function unwrapped(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
  return t;
}

function accepts(s: z.ZodType): string | undefined {
  const t = unwrapped(s);
  if (t instanceof z.ZodEnum) return `one of ${t.options.map((o) => `\`${String(o)}\``).join(', ')}`;
  if (t instanceof z.ZodNumber) {
    const kind = t.isInt ? 'whole number' : 'number';
    const min = t.minValue ?? Number.NEGATIVE_INFINITY;
    const max = t.maxValue ?? Number.POSITIVE_INFINITY;
    if (max >= Number.MAX_SAFE_INTEGER) return `${kind} ≥ ${min}`;
    return `${kind} ${min}–${max}`;
  }
  return undefined;
}

function defaultOf(s: z.ZodType): string | undefined {
  const r = s.safeParse(undefined);
  return r.success && r.data !== undefined ? String(r.data) : undefined;
}

/** Every setting of the schema, and CONFIG_FILE, in the order of their groups. */
export function settingFacts(): SettingFacts[] {
  const shape = configSchema.shape as Record<string, z.ZodType>;
  const docs: [string, SettingDoc][] = [...Object.entries(SETTING_DOCS), ['CONFIG_FILE', CONFIG_FILE_DOC]];
  const facts = docs.map(([name, doc]) => {
    const s = shape[name];
    return { name, doc, default: s && defaultOf(s), accepts: s && accepts(s) };
  });
  const order = Object.keys(SETTING_GROUPS);
  return facts.sort((a, b) => order.indexOf(a.doc.group) - order.indexOf(b.doc.group));
}

function byGroup(facts: SettingFacts[]): [SettingGroup, SettingFacts[]][] {
  return (Object.keys(SETTING_GROUPS) as SettingGroup[]).map((g) => [g, facts.filter((f) => f.doc.group === g)]);
}

/** A setting's line of a list: its name, default or what happens unset, what it accepts, its words. */
function settingLine(f: SettingFacts, relink: (md: string) => string): string {
  const notes = [
    f.default !== undefined ? `default \`${f.default}\`` : f.doc.unset ? `unset: ${f.doc.unset}` : undefined,
    f.accepts,
  ].filter(Boolean);
  const head = `\`${f.name}\`${notes.length ? ` (${notes.join('; ')})` : ''}:`;
  return wrap(relink(`${head} ${f.doc.doc}`), WIDTH, '- ', '  ');
}

/** Links written from the repository's root, as a file in docs/ reaches them. */
const fromDocs = (md: string) => md.replace(/\]\(docs\//g, '](');

/** docs/configuration.md's list of every setting, by group. */
export function configurationSettings(facts = settingFacts()): string {
  const out: string[] = [];
  for (const [group, items] of byGroup(facts)) {
    out.push(`### ${SETTING_GROUPS[group]}`, '');
    for (const f of items) out.push(settingLine(f, fromDocs));
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** The settings the README lists: the few a first deployment decides. */
export const README_SETTINGS = [
  'LISTEN_ADDR',
  'DATA_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'OPENAI_API_URL',
  'MANAGEMENT_TOKEN',
  'ENCRYPTION_KEY',
  'LOG_LEVEL',
] as const;

/** The README's short list: README_SETTINGS, in that order. */
export function readmeSettings(facts = settingFacts()): string {
  return README_SETTINGS.map((name) => {
    const f = facts.find((x) => x.name === name);
    if (!f) throw new Error(`README_SETTINGS names ${name}, which is not a setting`);
    return settingLine(f, (md) => md);
  }).join('\n');
}

/** docs/configuration.md's list of what the CLI's client commands read. */
export function clientSettings(): string {
  const rows = CLIENT_SETTING_DOCS.map((c) =>
    wrap(fromDocs(`\`${c.name}\` (default ${c.default}): ${c.doc}`), WIDTH, '- ', '  '),
  );
  return rows.join('\n');
}

/** Markdown to the plain text of a `.env` comment. */
const plain = (md: string) =>
  md
    .replace(/\[[^\]]+\]\(([^)]+)\)/g, '$1')
    .replace(/\*\*/g, '')
    .replace(/`/g, '');

const ENV_HEADER = `# llm-proxy settings, with their defaults: every setting the server reads, generated from its
# configuration schema (npm run docs). Every line is commented out: uncomment what you change.
#
# llm-proxy does not read .env files by itself. Load this file with one of:
#   node --env-file=.env dist/cli/main.js serve
#   set -a; . ./.env; set +a; npm start
#   docker run --env-file .env …  /  systemd EnvironmentFile=…
# The same settings can be given as a JSON object in the file named by CONFIG_FILE.
# Precedence: CLI flags > environment > CONFIG_FILE > defaults. Empty values count as unset.
# Booleans accept true/false, 1/0, yes/no, on/off. A bad value stops the start, naming the setting
# and what it accepts, before anything is written to DATA_DIR.`;

/** The whole of `.env.example`. */
export function envExample(facts = settingFacts()): string {
  const out = [ENV_HEADER];
  for (const [group, items] of byGroup(facts)) {
    out.push('', `# --- ${plain(SETTING_GROUPS[group])} ---`);
    for (const f of items) {
      const notes = [
        f.accepts && `${f.accepts[0]?.toUpperCase()}${f.accepts.slice(1)}.`,
        f.default === undefined && f.doc.unset && `Unset: ${f.doc.unset}.`,
      ].filter(Boolean);
      out.push('', wrap(plain([f.doc.doc, ...notes].join(' ')), WIDTH, '# '));
      out.push(`# ${f.name}=${f.default ?? f.doc.example ?? ''}`);
    }
  }
  out.push('', '# --- The CLI’s client commands (llm-proxy project …, token …, usage, pricing …, chat) ---');
  for (const c of CLIENT_SETTING_DOCS.filter((c) => c.name === 'LLM_PROXY_URL')) {
    out.push(
      '',
      wrap(
        plain(`${c.doc} The client commands also read MANAGEMENT_TOKEN, else the file DATA_DIR/management-token.`),
        WIDTH,
        '# ',
      ),
    );
    out.push(`# ${c.name}=${plain(c.default)}`);
  }
  return `${out.join('\n')}\n`;
}

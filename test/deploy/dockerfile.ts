import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  type Dockerfile,
  DockerfileParser,
  type Instruction,
  ModifiableInstruction,
  PropertyInstruction,
} from 'dockerfile-ast';

/**
 * The Dockerfile as the tests read it: parsed by dockerfile-ast (the parser of VS Code's Docker
 * language server), cut into stages, with what the rules and the runtime test need from the
 * final stage.
 */
export interface Stage {
  /** `FROM <image>` with the global ARG defaults substituted. */
  image: string;
  /** The `AS <name>`, if any. */
  name: string | null;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  ast: Dockerfile;
  stages: Stage[];
  final: Stage;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const ast = DockerfileParser.parse(text);
  const globals = new Map<string, string>();
  for (const arg of ast.getInitialARGs()) {
    const p = arg.getProperty();
    if (p) globals.set(p.getName(), p.getValue() ?? '');
  }
  const stages: Stage[] = [];
  for (const ins of ast.getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const [image = '', as, name] = ins.getArguments().map((a) => a.getValue());
      stages.push({
        image: substitute(image, globals),
        name: as?.toUpperCase() === 'AS' && name ? name : null,
        instructions: [],
      });
    } else stages.at(-1)?.instructions.push(ins);
  }
  const final = stages.at(-1);
  if (!final) throw new Error('the Dockerfile has no FROM');
  return { ast, stages, final };
}

/** `${NAME}` and `$NAME` replaced by the global ARG defaults (as in a FROM line). */
function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a, b) => vars.get(a ?? b) ?? all);
}

export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** The exec-form (JSON array) arguments of an ENTRYPOINT, CMD or HEALTHCHECK CMD; undefined in shell form. */
export function execForm(ins: Instruction | undefined): string[] | undefined {
  let text = ins?.getArgumentsContent()?.trim();
  if (!text) return undefined;
  if (ins?.getKeyword() === 'HEALTHCHECK') {
    text = text.replace(/^(--\S+\s+)*/, '');
    if (!/^CMD\s/i.test(text)) return undefined;
    text = text.replace(/^CMD\s+/i, '');
  }
  if (!text.startsWith('[')) return undefined;
  try {
    const list: unknown = JSON.parse(text);
    return Array.isArray(list) && list.every((s) => typeof s === 'string') ? list : undefined;
  } catch {
    return undefined;
  }
}

/** The name=value pairs of a stage's ENV or LABEL instructions (values unquoted). */
export function properties(stage: Stage, keyword: 'ENV' | 'LABEL'): Map<string, string> {
  const out = new Map<string, string>();
  for (const ins of instructionsOf(stage, keyword)) {
    if (!(ins instanceof PropertyInstruction)) continue;
    for (const p of ins.getProperties()) out.set(p.getName(), p.getValue() ?? '');
  }
  return out;
}

/** Sources of the COPY and ADD instructions that read the build context (not `--from` a stage). */
export function contextSources(parsed: ParsedDockerfile): string[] {
  const sources: string[] = [];
  for (const stage of parsed.stages) {
    for (const ins of stage.instructions) {
      if (ins.getKeyword() !== 'COPY' && ins.getKeyword() !== 'ADD') continue;
      const flags = ins instanceof ModifiableInstruction ? ins.getFlags() : [];
      if (flags.some((f) => f.getName() === 'from')) continue;
      const args = ins.getArguments().map((a) => a.getValue());
      sources.push(...args.slice(0, -1));
    }
  }
  return sources;
}

/**
 * Whether .dockerignore keeps `file` (a path relative to the context) out of the build context,
 * the way Docker decides it: patterns in order, the last one that matches the path or one of its
 * parent folders wins, `!` re-includes; `*` and `?` stay within one path segment, `**` spans any.
 */
export function ignoredByDockerignore(patterns: string[], file: string): boolean {
  const rules = patterns
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negated = l.startsWith('!');
      const pattern = path.posix.normalize((negated ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      return { negated, re: globToRegExp(pattern) };
    });
  const parts = path.posix.normalize(file).split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negated;
  }
  return ignored;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The Node.js majors a package.json `engines.node` range of `^X.Y.Z` and `>=X.Y.Z` parts accepts. */
export function engineAcceptsMajor(range: string, major: number): boolean {
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)\s*(\d+)(?:\.\d+){0,2}\s*$/.exec(part);
    if (!m) throw new Error(`engines.node part not understood by this test: ${part}`);
    return m[1] === '^' ? Number(m[2]) === major : major >= Number(m[2]);
  });
}

/** Setting names that hold secrets; such a setting never gets a value in an image. */
export const SECRET_NAME = /KEY|TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL/i;

/**
 * What is wrong with a Dockerfile against the image's rules, one line a problem (none: []).
 * `root` is the folder of the build context, `dockerignore` its .dockerignore lines, `docs` the
 * container documentation (a command line in it that starts `docker run` with `--init` stands in for
 * a tini entry point).
 */
export function dockerfileProblems(
  text: string,
  opts: { root: string; dockerignore: string[]; enginesNode: string; docs: string },
): string[] {
  const problems: string[] = [];
  const parsed = parseDockerfile(text);
  const { stages, final } = parsed;
  if (stages.length < 2) problems.push(`multi-stage build expected, found ${stages.length} stage(s)`);

  // Base images: the official node image, pinned to a major that package.json's engines accept.
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    if (stageNames.has(s.image)) continue;
    const m = /^node:(\d+)(?:\.\d+){0,2}-[\w.-]*slim$/.exec(s.image);
    if (!m) problems.push(`base image ${s.image}: expected node:<major>[-<debian>]-slim`);
    else if (!engineAcceptsMajor(opts.enginesNode, Number(m[1])))
      problems.push(`base image ${s.image}: Node ${m[1]} is outside package.json engines (${opts.enginesNode})`);
  }

  // Runs as a numeric user that is not root: runAsNonRoot can only check a number.
  const user = instructionsOf(final, 'USER').at(-1)?.getArgumentsContent()?.trim();
  if (!user) problems.push('the final stage sets no USER: it would run as root');
  else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`USER ${user}: expected a numeric uid[:gid]`);
  else if (user.split(':').some((id) => Number(id) === 0)) problems.push(`USER ${user} is root`);

  const health = execForm(instructionsOf(final, 'HEALTHCHECK').at(-1));
  if (!health) problems.push('the final stage has no HEALTHCHECK CMD in exec form');
  else if (!health.join(' ').includes('/live')) problems.push('the HEALTHCHECK does not ask /live');

  const entrypoint = execForm(instructionsOf(final, 'ENTRYPOINT').at(-1));
  if (!entrypoint) problems.push('the final stage has no ENTRYPOINT in exec form');
  else if (
    !/^tini(-static)?$/.test(path.posix.basename(entrypoint[0] ?? '')) &&
    !/^docker run\b[^\n]*\s--init\b/m.test(opts.docs)
  )
    problems.push(`ENTRYPOINT ${entrypoint[0]} is not tini, and the docs do not run the image with --init`);
  const stop = instructionsOf(final, 'STOPSIGNAL').at(-1)?.getArgumentsContent()?.trim();
  if (stop && stop !== 'SIGTERM') problems.push(`STOPSIGNAL ${stop}: the server drains on SIGTERM`);

  const env = properties(final, 'ENV');
  const dataDir = env.get('DATA_DIR');
  const volumes = instructionsOf(final, 'VOLUME').flatMap(
    (v) => execForm(v) ?? v.getArguments().map((a) => a.getValue()),
  );
  if (!dataDir) problems.push('the final stage sets no DATA_DIR');
  else if (!volumes.includes(dataDir)) problems.push(`DATA_DIR ${dataDir} is not a VOLUME`);

  const labels = properties(final, 'LABEL');
  for (const l of ['title', 'description', 'version', 'revision', 'created', 'licenses']) {
    if (!labels.get(`org.opencontainers.image.${l}`)) problems.push(`label org.opencontainers.image.${l} missing`);
  }

  for (const stage of stages) {
    for (const ins of stage.instructions) {
      const k = ins.getKeyword();
      if (k === 'ADD' && ins.getArguments().some((a) => /^(https?|git|ssh):\/\/|^git@/.test(a.getValue())))
        problems.push(`line ${ins.getRange().start.line + 1}: ADD of a URL (fetch with a checked download instead)`);
      if (ins instanceof PropertyInstruction && (k === 'ENV' || k === 'ARG')) {
        for (const p of ins.getProperties()) {
          // A build argument stays in the image's history even without a default.
          if (SECRET_NAME.test(p.getName()) && (k === 'ARG' || p.getValue()))
            problems.push(`line ${ins.getRange().start.line + 1}: ${k} ${p.getName()} looks like a secret`);
        }
      }
    }
  }
  // Global ARGs before the first FROM are not in any stage.
  for (const arg of parsed.ast.getInitialARGs()) {
    const name = arg.getProperty()?.getName() ?? '';
    if (SECRET_NAME.test(name)) problems.push(`ARG ${name} looks like a secret`);
  }

  for (const src of contextSources(parsed)) {
    if (!existsSync(path.join(opts.root, src))) problems.push(`COPY ${src}: no such file in the build context`);
    else if (ignoredByDockerignore(opts.dockerignore, src)) problems.push(`COPY ${src}: excluded by .dockerignore`);
  }
  return problems;
}

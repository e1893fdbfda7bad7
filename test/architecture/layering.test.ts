/**
 * Holds the code to the layer table of docs/architecture.md ("## Layers"): every non-test `.ts`
 * file under src/ belongs to a row, and no file imports from a higher layer. Same-layer imports are
 * allowed. A row whose layer is `–` is standalone: it imports nothing outside itself, and only the
 * commands (the top layer) import it. Rows may name folders that do not exist (yet, or any more).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LayerRow {
  /** The layer number, or 'standalone' for `–`. */
  layer: number | 'standalone';
  /** Repository-relative paths: folders end with `/`, files with `.ts`. */
  paths: string[];
}

/** The rows of the table under `## Layers`: `| N | \`src/x/\`, \`src/y.ts\` | … |`. */
function parseLayerTable(markdown: string): LayerRow[] {
  const section = /^## Layers\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(markdown)?.[1];
  if (!section) throw new Error('docs/architecture.md has no "## Layers" section');
  const rows: LayerRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || cells[0] !== '') continue;
    const [, layerCell = '', pathCell = ''] = cells;
    const layer = /^\d+$/.test(layerCell) ? Number(layerCell) : /^[–—-]$/.test(layerCell) ? 'standalone' : undefined;
    if (layer === undefined) continue; // header and separator rows
    const paths = [...pathCell.matchAll(/`(src\/[^`]*)`/g)].map((m) => m[1] as string);
    if (paths.length === 0) throw new Error(`layer table row names no src/ path: ${line}`);
    rows.push({ layer, paths });
  }
  return rows;
}

/** The row of a file: a row naming the file itself wins over folders, a deeper folder over a shallower one. */
function rowOf(file: string, rows: LayerRow[]): LayerRow | undefined {
  let best: { row: LayerRow; depth: number } | undefined;
  for (const row of rows) {
    for (const p of row.paths) {
      const depth = p === file ? Number.POSITIVE_INFINITY : p.endsWith('/') && file.startsWith(p) ? p.length : -1;
      if (depth >= 0 && (!best || depth > best.depth)) best = { row, depth };
    }
  }
  return best?.row;
}

/** Every specifier a file imports: static imports, `export … from` and `import('…')`, comments ignored. */
function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** A relative specifier as the repository-relative `.ts` file it names (NodeNext: `./x.js` is `./x.ts`). */
function resolveImport(from: string, specifier: string, exists: (file: string) => boolean): string | undefined {
  const target = path.posix.join(path.posix.dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, `${target}/index.ts`];
  return candidates.find(exists);
}

interface Edge {
  from: string;
  specifier: string;
  to: string | undefined;
}

const describeRow = (row: LayerRow | undefined) =>
  row === undefined ? 'no row' : row.layer === 'standalone' ? 'standalone' : `layer ${row.layer}`;

/** Every edge that breaks the table, as one line each. */
function violations(files: string[], edges: Edge[], rows: LayerRow[]): string[] {
  const problems: string[] = [];
  for (const file of files) if (!rowOf(file, rows)) problems.push(`${file}: in no row of the layer table`);
  const top = Math.max(...rows.map((r) => (r.layer === 'standalone' ? 0 : r.layer)));
  for (const { from, specifier, to } of edges) {
    if (to === undefined) {
      problems.push(`${from} → ${specifier}: does not resolve to a file`);
      continue;
    }
    if (!to.startsWith('src/')) continue;
    const a = rowOf(from, rows);
    const b = rowOf(to, rows);
    if (!a || !b || a === b) continue;
    // Out of a standalone row: never. Into one: from the top layer only. Otherwise: not upwards.
    const allowed = a.layer === 'standalone' ? false : b.layer === 'standalone' ? a.layer === top : b.layer <= a.layer;
    if (!allowed) problems.push(`${from} (${describeRow(a)}) → ${to} (${describeRow(b)})`);
  }
  return problems;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .sort();
}

describe('layering (docs/architecture.md, "## Layers")', () => {
  const rows = parseLayerTable(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));
  const exists = (f: string) => existsSync(path.join(ROOT, f)) && statSync(path.join(ROOT, f)).isFile();

  it('the table names only files that exist (folders may be absent)', () => {
    const missing = rows.flatMap((r) => r.paths).filter((p) => !p.endsWith('/') && !exists(p));
    expect(missing).toEqual([]);
  });

  it('every source file is in a row, and no import goes to a higher layer or across a standalone row', () => {
    const files = sourceFiles('src');
    const edges = files.flatMap((from) =>
      importSpecifiers(readFileSync(path.join(ROOT, from), 'utf8'))
        .filter((s) => s.startsWith('.'))
        .map((specifier) => ({ from, specifier, to: resolveImport(from, specifier, exists) })),
    );
    expect(edges.length).toBeGreaterThan(files.length);
    expect(violations(files, edges, rows)).toEqual([]);
  });

  it('the check itself finds what it must', () => {
    const table = [
      '## Layers',
      '| Layer | Folder / file | Holds |',
      '| ----- | ------------- | ----- |',
      '| 1 | `src/a/` | |',
      '| 1 | `src/one.ts`, `src/two.ts` | |',
      '| 2 | `src/b/` | |',
      '| 2 | `src/a/special.ts` | |',
      '| 3 | `src/gone/` | |',
      '| 3 | `src/c/` | |',
      '| – | `src/mock/` | |',
      '## Next',
      '| 9 | `src/not-a-layer/` | |',
    ].join('\n');
    const t = parseLayerTable(table);
    expect(t.map((r) => r.layer)).toEqual([1, 1, 2, 2, 3, 3, 'standalone']);
    expect(rowOf('src/a/special.ts', t)?.layer).toBe(2);
    expect(rowOf('src/two.ts', t)?.layer).toBe(1);
    expect(rowOf('src/stray.ts', t)).toBeUndefined();
    const files = ['src/a/x.ts', 'src/b/y.ts', 'src/c/z.ts', 'src/mock/m.ts', 'src/stray.ts'];
    const edge = (from: string, to: string) => ({ from, specifier: to, to });
    expect(
      violations(
        files,
        [
          edge('src/b/y.ts', 'src/a/x.ts'), // down: fine
          edge('src/a/x.ts', 'src/one.ts'), // same layer: fine
          edge('src/c/z.ts', 'src/mock/m.ts'), // the top layer may use the standalone row
          edge('src/a/x.ts', 'src/b/y.ts'), // up
          edge('src/b/y.ts', 'src/mock/m.ts'), // below the top layer
          edge('src/mock/m.ts', 'src/a/x.ts'), // out of the standalone row
          { from: 'src/a/x.ts', specifier: './nope.js', to: undefined },
        ],
        t,
      ),
    ).toEqual([
      'src/stray.ts: in no row of the layer table',
      'src/a/x.ts (layer 1) → src/b/y.ts (layer 2)',
      'src/b/y.ts (layer 2) → src/mock/m.ts (standalone)',
      'src/mock/m.ts (standalone) → src/a/x.ts (layer 1)',
      'src/a/x.ts → ./nope.js: does not resolve to a file',
    ]);
    expect(
      importSpecifiers(
        "// import './c.js'\nimport type { A } from './a.js';\nexport * from './b.js';\nawait import('./d.js');",
      ),
    ).toEqual(['./a.js', './b.js', './d.js']);
    expect(resolveImport('src/a/x.ts', '../b/y.js', (f) => f === 'src/b/y.ts')).toBe('src/b/y.ts');
  });
});

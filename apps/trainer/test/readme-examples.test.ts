// Documentation that cannot rot: every ```ts block of every package README, and of the TSDoc
// `@example` tags in the sources of grpo, saliency and model, is extracted and type-checked against
// the built packages (the trainer depends on all of them); every public function and class of grpo
// and saliency has an `@example`; and the saliency README's GRPO example - AtManRL for 2 steps on a
// tiny model - also runs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const work = join(here, '..', '.readme-examples');

interface Example {
  /** The README or source file (relative to the root). */
  readme: string;
  /** 1-based line of the first code line. */
  line: number;
  code: string;
  file: string;
}

function extract(): Example[] {
  const readmes = ['packages', 'apps'].flatMap((dir) =>
    readdirSync(join(root, dir)).map((p) => join(root, dir, p, 'README.md')),
  );
  const out: Example[] = [];
  for (const readme of readmes) {
    let text: string;
    try {
      text = readFileSync(readme, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() !== '```ts') continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end]!.trim() !== '```') end++;
      const name = relative(root, readme).replace(/[\\/]/g, '_').replace(/\.md$/, '');
      out.push({
        readme: relative(root, readme),
        line: start + 1,
        code: lines.slice(start, end).join('\n'),
        file: join(work, `${name}-L${start + 1}.ts`),
      });
      i = end;
    }
  }
  return out;
}

/** Packages whose TSDoc `@example` blocks are compiled. */
const TSDOC_PACKAGES = ['grpo', 'saliency', 'model'];
/** Packages whose every public function and class must have an `@example`. */
const EXAMPLE_REQUIRED = ['grpo', 'saliency'];

/** The ```ts blocks of `@example` tags in a package's sources (tests excluded). */
function extractTsdoc(pkg: string): Example[] {
  const src = join(root, 'packages', pkg, 'src');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.endsWith('.ts') && !ent.name.endsWith('.test.ts')) files.push(p);
    }
  };
  walk(src);
  const out: Example[] = [];
  for (const file of files.sort()) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^\s*\*\s*@example\s*$/.test(lines[i]!)) continue;
      if (!/^\s*\*\s*```ts\s*$/.test(lines[i + 1] ?? '')) continue;
      const start = i + 2;
      let end = start;
      while (end < lines.length && !/^\s*\*\s*```\s*$/.test(lines[end]!)) end++;
      const rel = relative(root, file);
      out.push({
        readme: rel,
        line: start + 1,
        code: lines
          .slice(start, end)
          .map((l) => l.replace(/^\s*\* ?/, ''))
          .join('\n'),
        file: join(work, `${rel.replace(/[\\/]/g, '_').replace(/\.ts$/, '')}-L${start + 1}.ts`),
      });
      i = end;
    }
  }
  return out;
}

/**
 * The public functions and classes of a package's main entry that have no `@example` tag (error
 * classes excepted: they are thrown, not called).
 */
function withoutExample(pkg: string): string[] {
  const index = join(root, 'packages', pkg, 'src', 'index.ts');
  const program = ts.createProgram([index], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations?.find(
      (d) => ts.isFunctionDeclaration(d) || ts.isClassDeclaration(d),
    );
    if (decl === undefined || exported.name.endsWith('Error')) continue;
    // an overloaded function documents its example on any declaration
    const tags = (symbol.declarations ?? []).flatMap((d) => ts.getJSDocTags(d));
    if (!tags.some((t) => t.tagName.text === 'example')) missing.push(exported.name);
  }
  return missing.sort();
}

const examples = [...extract(), ...TSDOC_PACKAGES.flatMap(extractTsdoc)];
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README examples', () => {
  it('are found in the package READMEs and TSDoc', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    expect(examples.some((e) => e.readme.startsWith('packages/saliency'))).toBe(true);
    for (const pkg of TSDOC_PACKAGES) {
      expect(examples.some((e) => e.readme.startsWith(`packages/${pkg}/src/`))).toBe(true);
    }
  });

  it.each(EXAMPLE_REQUIRED)(
    'every public function and class of %s has an @example',
    (pkg) => {
      expect(withoutExample(pkg)).toEqual([]);
    },
    120_000,
  );

  it('type-check against the built packages (errors name the README and line)', () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    for (const e of examples) writeFileSync(e.file, `${e.code}\nexport {};\n`);
    const program = ts.createProgram(
      examples.map((e) => e.file),
      {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      },
    );
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const e = examples.find((x) => d.file && resolve(d.file.fileName) === resolve(x.file));
      const pos =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
      const where = e && pos ? `${e.readme}:${e.line + pos.line}` : (d.file?.fileName ?? '?');
      return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(problems).toEqual([]);
  }, 120_000);

  it('the saliency README GRPO example runs 2 AtManRL steps and prints finite rewards', () => {
    const e = examples.find(
      (x) => x.readme.startsWith('packages/saliency') && x.code.includes('grpoStep'),
    );
    expect(e).toBeDefined();
    mkdirSync(work, { recursive: true });
    const js = ts.transpileModule(e!.code, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const file = join(work, 'saliency-grpo.mjs');
    writeFileSync(file, js);
    const out = execFileSync(process.execPath, [file], {
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const steps = out.split('\n').filter((l) => /^[12] /.test(l));
    expect(steps).toHaveLength(2);
    for (const l of steps) expect(Number.isFinite(Number(l.split(' ')[1]))).toBe(true);
    expect(out).toMatch(/spans/);
  }, 120_000);
});

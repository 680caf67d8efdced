// Import-cycle check for the repository's own TypeScript (and .mjs) files: `npm run check:cycles`.
//
// Every import between our files is one of three kinds:
// - value: a static `import`/`export … from` that survives compilation. TypeScript and esbuild (tsx) drop an
//   import whose bindings are only used as types, so the file is compiled with `ts.transpileModule` (the same
//   per-file elision tsx does) and the imports left in its output are the value ones;
// - dynamic: `await import('./x.js')`, a runtime dependency loaded later;
// - type: `import type`, `export type … from`, and imports the compiler drops because they only name types.
// A cycle through value or dynamic imports fails the check (exit 1): modules in such a cycle see each other's
// bindings half-initialised depending on which one loads first. A cycle that exists only once type imports are
// counted is reported too but does not fail: nothing of it exists at run time. `--types` makes those fail as well.
//
// Resolution is TypeScript's own (NodeNext for the Node packages, Bundler for web/src), so `./x.js` finds
// `./x.ts` and `@loaxa/shared` finds shared/src/index.ts through the workspace link.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository; `--root DIR` checks another tree laid out the same way (the test's fixtures). */
const rootArg = process.argv.indexOf('--root');
const rootValue = rootArg > 0 ? process.argv[rootArg + 1] : undefined;
const ROOT = realpathSync(rootValue ? resolve(rootValue) : resolve(dirname(fileURLToPath(import.meta.url)), '..'));
/** Folders scanned; anything under a node_modules, build output or coverage folder is skipped. */
const SCAN = ['shared', 'server', 'device-agent', 'firmware-sim', 'web/src', 'test', 'bench', 'deploy', 'scripts'];
const SKIP_DIRS = new Set(['node_modules', 'build', 'dist', 'coverage', '.tap']);
const EXT = /\.(ts|tsx|mts|mjs)$/;

type Kind = 'value' | 'dynamic' | 'type';
interface Edge {
  to: string;
  kind: Kind;
}

function listFiles(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) listFiles(join(dir, e.name), out);
    } else if (e.isFile() && EXT.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push(join(dir, e.name));
    }
  }
}

const nodeOptions: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowJs: true, resolveJsonModule: true };
const webOptions: ts.CompilerOptions = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, allowJs: true, resolveJsonModule: true };
const transpileOptions: ts.CompilerOptions = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  isolatedModules: true,
  verbatimModuleSyntax: false,
  jsx: ts.JsxEmit.ReactJSX,
  jsxImportSource: 'preact',
};

const ownFiles = new Set<string>();
function resolveSpecifier(spec: string, from: string): string | undefined {
  const options = relative(ROOT, from).startsWith(join('web', 'src')) ? webOptions : nodeOptions;
  const resolved = ts.resolveModuleName(spec, from, options, ts.sys).resolvedModule?.resolvedFileName;
  if (!resolved) return undefined;
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch {
    return undefined;
  }
  return ownFiles.has(real) ? real : undefined;
}

/** Module specifiers of static imports and re-exports in `source`. */
function staticSpecifiers(source: ts.SourceFile): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const st of source.statements) {
    if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
      const clause = st.importClause;
      let typeOnly = clause?.isTypeOnly ?? false;
      if (clause && !typeOnly && !clause.name && clause.namedBindings && ts.isNamedImports(clause.namedBindings)) {
        const els = clause.namedBindings.elements;
        typeOnly = els.length > 0 && els.every((e) => e.isTypeOnly);
      }
      out.push({ spec: st.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      let typeOnly = st.isTypeOnly;
      if (!typeOnly && st.exportClause && ts.isNamedExports(st.exportClause)) {
        const els = st.exportClause.elements;
        typeOnly = els.length > 0 && els.every((e) => e.isTypeOnly);
      }
      out.push({ spec: st.moduleSpecifier.text, typeOnly });
    }
  }
  return out;
}

/** Specifiers of `import('…')` calls with a literal argument, anywhere in the file (not `typeof import(…)` types). */
function dynamicSpecifiers(source: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) out.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function scriptKind(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (file.endsWith('.mjs')) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

function edgesOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
  // What survives compilation: transpile the file alone, as tsx does, and read the imports left.
  const emitted = file.endsWith('.mjs')
    ? text
    : ts.transpileModule(text, { compilerOptions: transpileOptions, fileName: file, reportDiagnostics: false }).outputText;
  const emittedSource = ts.createSourceFile(`${file}.js`, emitted, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const valueSpecs = new Set(staticSpecifiers(emittedSource).map((s) => s.spec));

  const edges = new Map<string, Kind>();
  const rank: Record<Kind, number> = { type: 0, dynamic: 1, value: 2 };
  const add = (spec: string, kind: Kind): void => {
    const to = resolveSpecifier(spec, file);
    if (!to) return;
    const had = edges.get(to);
    if (!had || rank[kind] > rank[had]) edges.set(to, kind);
  };
  for (const { spec, typeOnly } of staticSpecifiers(source)) add(spec, !typeOnly && valueSpecs.has(spec) ? 'value' : 'type');
  for (const spec of dynamicSpecifiers(source)) add(spec, 'dynamic');
  return [...edges].map(([to, kind]) => ({ to, kind }));
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cyclicComponents(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out;
}

/** One shortest cycle through the first file of a component, for the message. */
function shortestCycle(graph: Map<string, string[]>, comp: string[]): string[] {
  const members = new Set(comp);
  const start = comp[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return comp;
}

function main(): number {
  const failOnTypes = process.argv.includes('--types');
  const files: string[] = [];
  for (const d of SCAN) listFiles(join(ROOT, d), files);
  for (const f of files) ownFiles.add(realpathSync(f));

  const all = new Map<string, Edge[]>();
  for (const f of ownFiles) all.set(f, edgesOf(f));
  const graphOf = (kinds: Kind[]): Map<string, string[]> =>
    new Map([...all].map(([f, es]) => [f, es.filter((e) => kinds.includes(e.kind)).map((e) => e.to)]));
  const runtime = graphOf(['value', 'dynamic']);
  const everything = graphOf(['value', 'dynamic', 'type']);

  const rel = (f: string): string => relative(ROOT, f);
  const kindOf = (a: string, b: string): Kind => all.get(a)!.find((e) => e.to === b)!.kind;
  const show = (graph: Map<string, string[]>, comp: string[]): string => {
    const cyc = shortestCycle(graph, comp);
    const steps = cyc.map((f, i) => (i === 0 ? rel(f) : `${kindOf(cyc[i - 1]!, f) === 'value' ? '→' : `-(${kindOf(cyc[i - 1]!, f)})→`} ${rel(f)}`));
    const more = comp.length > cyc.length - 1 ? `\n    (${comp.length} files in this cycle: ${comp.map(rel).join(', ')})` : '';
    return `  ${steps.join(' ')}${more}`;
  };

  const runtimeCycles = cyclicComponents(runtime);
  const runtimeMembers = new Set(runtimeCycles.flat());
  // Type-only cycles: components of the full graph that are not explained by a runtime cycle alone.
  const typeCycles = cyclicComponents(everything).filter((comp) => {
    const sub = cyclicComponents(new Map(comp.map((f) => [f, (runtime.get(f) ?? []).filter((t) => comp.includes(t))])));
    return !(sub.length === 1 && sub[0]!.length === comp.length) && !comp.every((f) => runtimeMembers.has(f));
  });

  console.log(`check-cycles: ${ownFiles.size} files, ${[...all.values()].flat().length} imports between them`);
  if (runtimeCycles.length > 0) {
    console.log(`\n${runtimeCycles.length} import cycle(s) through value imports (fail):`);
    for (const comp of runtimeCycles) console.log(show(runtime, comp));
  }
  if (typeCycles.length > 0) {
    console.log(`\n${typeCycles.length} cycle(s) that exist only through type imports (${failOnTypes ? 'fail with --types' : 'reported, not failing'}):`);
    for (const comp of typeCycles) console.log(show(everything, comp));
  }
  const failed = runtimeCycles.length > 0 || (failOnTypes && typeCycles.length > 0);
  console.log(failed ? '\ncheck-cycles: FAILED' : '\ncheck-cycles: no import cycles');
  return failed ? 1 : 0;
}

process.exitCode = main();

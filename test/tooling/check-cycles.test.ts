// scripts/check-cycles.ts on small trees: a value cycle fails, a cycle of type imports is reported and
// passes (fails with --types), an import elided because it only names a type does not count.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/check-cycles.ts');

async function tree(t: Test, files: Record<string, string>): Promise<string> {
  const root = t.testdir();
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

function check(root: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--root', root, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

t.test('a cycle through value imports fails and names its files', async (t) => {
  const root = await tree(t, {
    'device-agent/src/a.ts': "import { b } from './b.js';\nexport const a = (): number => b + 1;\n",
    'device-agent/src/b.ts': "import { a } from './a.js';\nexport const b = 1;\nexport const c = (): number => a();\n",
    'device-agent/src/c.ts': "import { a } from './a.js';\nexport const d = a();\n",
  });
  const r = check(root);
  t.equal(r.status, 1, r.out);
  t.match(r.out, /1 import cycle\(s\) through value imports/);
  t.match(r.out, /device-agent\/src\/a\.ts → device-agent\/src\/b\.ts → device-agent\/src\/a\.ts/);
  t.notMatch(r.out, /c\.ts/);
});

t.test('a dynamic import closes a cycle too', async (t) => {
  const root = await tree(t, {
    'server/src/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'server/src/b.ts': "export const b = 1;\nexport const load = async (): Promise<unknown> => import('./a.js');\n",
  });
  const r = check(root);
  t.equal(r.status, 1, r.out);
  t.match(r.out, /server\/src\/b\.ts -\(dynamic\)→ server\/src\/a\.ts|server\/src\/a\.ts → server\/src\/b\.ts -\(dynamic\)→/);
});

t.test('type imports, explicit or elided, make a reported cycle that passes (fails with --types)', async (t) => {
  const root = await tree(t, {
    // x imports a value of y; y names x's type without `import type`: the compiler drops that import.
    'shared/src/x.ts': "import { y } from './y.js';\nexport interface X { n: number }\nexport const x = y;\n",
    'shared/src/y.ts': "import { X } from './x.js';\nexport const y = 2;\nexport const f = (v: X): number => v.n;\n",
    'shared/src/p.ts': "import type { Q } from './q.js';\nexport type P = { q?: Q };\n",
    'shared/src/q.ts': "import type { P } from './p.js';\nexport type Q = { p?: P };\n",
  });
  const r = check(root);
  t.equal(r.status, 0, r.out);
  t.match(r.out, /2 cycle\(s\) that exist only through type imports/);
  t.match(r.out, /check-cycles: no import cycles/);
  const strict = check(root, '--types');
  t.equal(strict.status, 1, strict.out);
});

t.test('a tree without cycles passes', async (t) => {
  const root = await tree(t, {
    'firmware-sim/src/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'firmware-sim/src/b.ts': 'export const b = 1;\n',
  });
  const r = check(root);
  t.equal(r.status, 0, r.out);
  t.match(r.out, /check-cycles: 2 files, 1 imports between them/);
});

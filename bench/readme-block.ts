// Replaces the generated block of one benchmark in bench/README.md (between `<!-- NAME:results -->` and
// `<!-- /NAME:results -->`), leaving the hand-written text around it alone. Adds the block at the end
// of the file the first time.
import { readFile, writeFile } from 'node:fs/promises';

export async function updateReadmeBlock(file: URL, name: string, body: string): Promise<void> {
  const open = `<!-- ${name}:results -->`;
  const close = `<!-- /${name}:results -->`;
  const block = `${open}\n${body}\n${close}`;
  const text = await readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  const next = start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + close.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(file, next);
}

/**
 * Builds the web app into web/dist, which the server serves under `/` (server/src/routes/web.ts).
 * Hashed file names under assets/ let the server mark them immutable; index.html is never cached.
 * Every .js/.css/.svg larger than 1 KiB also gets .br and .gz twins so phones on 3G/4G download less.
 */
import { defineConfig, type Plugin } from 'vite';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'loaxa-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async closeBundle() {
      const walk = async (dir: string): Promise<string[]> => {
        const entries = await readdir(dir, { withFileTypes: true });
        const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))));
        return nested.flat();
      };
      for (const file of await walk(outDir)) {
        if (!/\.(js|css|svg|html|json)$/.test(file)) continue;
        const data = await readFile(file);
        if (data.length < 1024) continue;
        await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev -w web` with the API on :8080.
    proxy: { '/api': 'http://127.0.0.1:8080', '/media': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
});

/**
 * Makes the installed app's PNG icons (web/public/icon-*.png, named in manifest.webmanifest) from the favicon's
 * drawing with Debian's chromium: Android asks for 192 and 512 px PNGs, and a "maskable" one whose glyph sits
 * inside the middle 80 % (the launcher crops it to its own shape). Run once when the drawing changes:
 * `node --import tsx scripts/make-web-icons.ts`; the PNGs are committed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const dir = join(import.meta.dirname, '../web/public');
const svg = await readFile(join(dir, 'favicon.svg'), 'utf8');
const glyph = /<path[^>]*\/>/.exec(svg)![0];
const maskable = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" fill="#8b1a1a"/><g transform="translate(4.2 4.2) scale(0.65)">${glyph}</g></svg>`;

const browser = await chromium.launch({ executablePath: process.env.LOAXA_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const [name, size, drawing] of [['icon-192.png', 192, svg], ['icon-512.png', 512, svg], ['icon-maskable-512.png', 512, maskable]] as const) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<html><body style="margin:0;background:transparent">${drawing.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    await writeFile(join(dir, name), await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
  }
} finally {
  await browser.close();
}

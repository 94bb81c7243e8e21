// Times the browser build in Debian's headless chromium (SwiftShader: WebGL2 and WebGPU on the
// CPU): ms per optimizer step for js and gpujs (webgl2, webgpu). Prints one JSON line per row.
// Usage: node bench/gpujs-browser.mjs [steps]
import { build } from 'esbuild';
import { createServer } from 'node:http';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'browser-bench');
const FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
];
await mkdir(out, { recursive: true });
await build({
  entryPoints: { bench: join(root, 'bench/gpujs-browser-page.ts') }, bundle: true,
  format: 'esm', platform: 'browser', outdir: out, logLevel: 'warning',
});
await writeFile(join(out, 'index.html'),
  '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>');
const server = createServer(async (req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  try {
    const body = await readFile(join(out, path === '/' ? 'index.html' : path));
    res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS });
try {
  const tab = await browser.newPage();
  // 'commit': the page computes before its load event fires
  const url = `http://127.0.0.1:${server.address().port}/?steps=${process.argv[2] ?? 3}`;
  await tab.goto(url, { waitUntil: 'commit' });
  await tab.waitForFunction(() => window.__bench, null, { timeout: 590_000 });
  for (const row of await tab.evaluate(() => window.__bench)) console.log(JSON.stringify(row));
} finally {
  await browser.close();
  server.close();
}

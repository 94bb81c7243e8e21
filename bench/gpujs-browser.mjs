// Times the browser build in Debian's headless chromium (SwiftShader: WebGL2 and WebGPU on the
// CPU): ms per optimizer step for js and gpujs (webgl2, webgpu). Prints one JSON line per row.
// Usage: node bench/gpujs-browser.mjs [steps]
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium, serve } from '../test/browser/harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'browser-bench');
await mkdir(out, { recursive: true });
await build({
  entryPoints: { bench: join(root, 'bench/gpujs-browser-page.ts') }, bundle: true,
  format: 'esm', platform: 'browser', outdir: out, logLevel: 'warning',
});
await writeFile(join(out, 'index.html'),
  '<!doctype html><meta charset="utf-8"><script type="module" src="/bench.js"></script>');
const { server, base } = await serve(out, 'index.html');
const browser = await launchChromium();
try {
  const tab = await browser.newPage();
  // 'commit': the page computes before its load event fires
  const url = `${base}/?steps=${process.argv[2] ?? 3}`;
  await tab.goto(url, { waitUntil: 'commit' });
  await tab.waitForFunction(() => window.__bench, null, { timeout: 590_000 });
  for (const row of await tab.evaluate(() => window.__bench)) console.log(JSON.stringify(row));
} finally {
  await browser.close();
  server.close();
}

// npm run test:browser: bundles the golden page with esbuild, serves it from 127.0.0.1 and runs
// it in Debian's headless chromium (playwright-core, no downloaded browser) in gpu.js's webgl2
// and webgpu modes (SwiftShader provides both), then opens the training example for a few
// steps (the coupled mean-norm ratio must end below half of Adam's). Exits non-zero on any
// case above tolerance, any mode that did not run, or an error.
import { build } from 'esbuild';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchChromium, serve } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'browser-test');
const TOLERANCE = 1e-5;
const MODES = (process.env.BROWSER_MODES ?? 'webgl2,webgpu').split(',');

await mkdir(out, { recursive: true });
await build({
  entryPoints: {
    golden: join(root, 'test/browser/page.ts'),
    training: join(root, 'examples/browser-training/main.ts'),
  },
  bundle: true, format: 'esm', platform: 'browser', outdir: out, logLevel: 'warning',
});
const page = (script) => `<!doctype html><meta charset="utf-8"><title>${script}</title>` +
  `<body>running…</body><script type="module" src="/${script}.js"></script>`;
await writeFile(join(out, 'golden.html'), page('golden'));
await writeFile(join(out, 'training.html'),
  await readFile(join(root, 'examples/browser-training/index.html'), 'utf8'));

const { server, base } = await serve(out, 'golden.html');
if (process.argv.includes('--serve')) {
  // npm run example:browser: leave the pages up for a person's browser (Ctrl-C ends it)
  console.log(`training example: ${base}/training.html?mode=webgl2 (or mode=webgpu)`);
  console.log(`golden cases:     ${base}/golden.html?modes=webgl2,webgpu`);
  await new Promise(() => {});
}

const browser = await launchChromium();
let failures = 0;
try {
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.error('page error:', e.message));
  await tab.goto(`${base}/golden.html?modes=${MODES.join(',')}`);
  await tab.waitForFunction(() => window.__golden, null, { timeout: 300_000 });
  const modes = await tab.evaluate(() => window.__golden);
  for (const m of modes) {
    console.log(`mode ${m.mode}: ${m.info?.reason ?? m.error}`);
    if (m.error || m.results.length === 0) {
      console.log(`  FAIL mode ${m.mode} did not run: ${m.error}`);
      failures++;
      continue;
    }
    if (m.mode === 'webgpu') {
      const ok = /is asynchronous; use coupledAdamStepAsync/.test(m.syncRefusal ?? '');
      if (!ok) failures++;
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} a synchronous step refuses: ${m.syncRefusal}`);
    }
    for (const r of m.results) {
      const worst = Math.max(r.errors.param, r.errors.expAvg, r.errors.expAvgSq);
      const ok = r.applied && worst <= TOLERANCE;
      if (!ok) failures++;
      console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${r.name}: max relative error ` +
        `${worst.toExponential(2)} over ${m.mode === 'webgpu' ? 'async' : 'sync'} steps ` +
        `(${r.ms} ms)`);
    }
  }

  // the example page: a few steps of training in each mode, with the mean-norm ratio reported
  for (const mode of MODES) {
    await tab.goto(`${base}/training.html?mode=${mode}&steps=30&every=10`);
    await tab.waitForFunction(() => window.__training?.done, null, { timeout: 300_000 });
    const t = await tab.evaluate(() => window.__training);
    const last = t.history.at(-1);
    console.log(`training example on ${t.backend}: step ${last?.step}, mean-norm ratio ` +
      `coupled ${last?.coupled.ratio.toFixed(3)}, adam ${last?.adam.ratio.toFixed(3)}`);
    const ran = last && last.step === 30 && Number.isFinite(last.coupled.ratio);
    if (t.error || !ran || !t.backend.startsWith(`gpujs (${mode})`)) {
      console.log(`  FAIL training example in ${mode}: ${t.error ?? t.backend}`);
      failures++;
    }
    // the effect the page is there to show: Adam drifts the mean embedding, Coupled Adam not
    else if (!(last.coupled.ratio < last.adam.ratio / 2)) {
      console.log(`  FAIL training example in ${mode}: the coupled ratio is not below half ` +
        `of Adam's`);
      failures++;
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(failures === 0 ? 'browser tests passed' : `${failures} browser test(s) failed`);
process.exit(failures === 0 ? 0 : 1);

// Builds headless-gl (the optional `gl` package that gives gpu.js a WebGL context in Node) from
// source. It takes about 3 minutes on 2 cores, which would put `npm ci && npm start` past its
// budget, so npm never runs gl's own install script (allowScripts in package.json) and this
// runs instead: always through `npm run build:gl`, and at install time only in CI (CI set) or
// when COUPLED_ADAM_BUILD_GL=1, and only for this repository itself, never as a dependency.
// Needs libxi-dev libx11-dev libxext-dev pkg-config; running it needs a display (xvfb-run -a).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nodedirArgs, nodeGypBin } from './node-tools.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const glDir = join(root, 'node_modules', 'gl');
const atInstall = process.argv.includes('--at-install');

if (atInstall) {
  const ownTree = resolve(process.env.INIT_CWD ?? '') === root;
  const wanted = Boolean(process.env.CI) || process.env.COUPLED_ADAM_BUILD_GL === '1';
  if (!ownTree || !wanted) process.exit(0);
}
if (!existsSync(glDir)) {
  console.warn('coupled-adam: node_modules/gl is not installed; gpu.js will not have headlessgl');
  process.exit(0);
}
if (existsSync(join(glDir, 'build', 'Release', 'webgl.node'))) process.exit(0);

const nodeGyp = nodeGypBin();
if (!nodeGyp) {
  console.warn('coupled-adam: node-gyp not found; cannot build headless-gl');
  process.exit(0);
}
console.log('coupled-adam: building headless-gl (gl) from source, about 3 minutes on 2 cores');
const result = spawnSync(
  process.execPath,
  [nodeGyp, 'rebuild', `--jobs=${availableParallelism()}`, ...nodedirArgs()],
  { cwd: glDir, stdio: 'inherit' },
);
if (result.status !== 0) {
  console.warn(
    'coupled-adam: headless-gl did not build; gpu.js falls back to its webasm and cpu modes. ' +
      'Install libxi-dev libx11-dev libxext-dev pkg-config, then run `npm run build:gl`.',
  );
}

// Builds the native addon at install time: cmake-js with CMakeLists.txt first (CPU kernels,
// and CUDA kernels where nvcc is found), then node-gyp with binding.gyp (CPU kernels only)
// for machines without CMake. If neither works the package still installs: the 'js'
// backend needs no addon, and backends() reports why 'native' is unavailable.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { nodedirArgs, nodeGypBin, resolveBin } from './node-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.env.COUPLED_ADAM_SKIP_BUILD === '1') {
  console.log('coupled-adam: COUPLED_ADAM_SKIP_BUILD=1, not building the native addon');
  process.exit(0);
}

function run(label, bin, args) {
  if (!bin) return `${label} is not installed`;
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: 'inherit' });
  return result.status === 0 ? null : `${label} exited with status ${result.status}`;
}

// CI builds our sources with warnings as errors; installs elsewhere do not (CMakeLists.txt).
const werror = process.env.CI ? ['--CDCOUPLED_ADAM_WERROR=ON'] : [];

const attempts = [
  ['cmake-js', resolveBin('cmake-js/bin/cmake-js'), ['compile', '--log-level', 'warn', ...werror]],
  ['node-gyp', nodeGypBin(), ['rebuild', ...nodedirArgs()]],
];
const failures = [];
for (const [label, script, args] of attempts) {
  const failure = run(label, script, args);
  if (failure === null && existsSync(join(root, 'build', 'Release', 'coupled_adam.node'))) {
    process.exit(0);
  }
  failures.push(failure ?? `${label} produced no build/Release/coupled_adam.node`);
}
console.warn(
  `coupled-adam: the native addon was not built (${failures.join('; ')}). ` +
    "The 'js' backend works without it; install CMake or a C++ toolchain, then run " +
    '`npm run build:addon`.',
);

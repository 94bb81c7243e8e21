// Without the addon, the package still works: 'native' reports why and how to fix it, 'auto'
// falls back to 'js', and NODE_DEBUG=coupled-adam says so once. Runs the compiled package
// from a copy that has no build/ folder, in a child process, as a fresh install would.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const copy = mkdtempSync(join(tmpdir(), 'coupled-adam-noaddon-'));
cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
cpSync(join(root, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const script = `
  const m = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
  const t = { param: new Float32Array(6), grad: new Float32Array(6).fill(1),
    expAvg: new Float32Array(6), expAvgSq: new Float32Array(3) };
  const first = m.coupledAdamStep(t, { rows: 2, cols: 3, step: 1 });
  const second = m.adamStep({ ...t, expAvgSq: new Float32Array(6) }, { step: 1 });
  let explicit;
  try { m.coupledAdamStep(t, { rows: 2, cols: 3, step: 2, backend: 'native' }); }
  catch (err) { explicit = err.message; }
  console.log(JSON.stringify({ backends: m.backends(), first, second, explicit }));
`;

function run(env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return { result: JSON.parse(r.stdout), stderr: r.stderr };
}

it("falls back to 'js' and explains why once under NODE_DEBUG=coupled-adam", () => {
  const { result, stderr } = run({ ...process.env, NODE_DEBUG: 'coupled-adam' });
  const reason = 'the native addon is not built (no build/Release/coupled_adam.node); run ' +
    '`npm run build:addon`, which needs CMake or node-gyp and a C++17 compiler';
  expect(result.backends.find((b: { name: string }) => b.name === 'native')).toEqual({
    name: 'native', available: false, compiled: false, reason });
  expect(result.first).toEqual({ applied: true, backend: 'js' });
  expect(result.second).toEqual({ applied: true, backend: 'js' });
  expect(result.explicit).toBe(`coupledAdamStep: backend 'native' is unavailable: ${reason}`);
  const lines = stderr.split('\n').filter((l) => l.includes('backend native unavailable'));
  expect(lines).toEqual([`COUPLED-ADAM backend native unavailable: ${reason}`]);
});

it('stays silent about the fallback without NODE_DEBUG', () => {
  const env = { ...process.env };
  delete env.NODE_DEBUG;
  expect(run(env).stderr).toBe('');
});

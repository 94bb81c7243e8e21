// Runs bench/benchmark.js in quick mode on two tiny shapes, so that the benchmark keeps working
// (every backend, the triad, the copy, tfjs), and checks the JSON it writes. No timing is
// judged here: speed targets are for `npm run bench` on the benchmark machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

import { backends } from '../src/index.js';

const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'coupled-adam-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const SHAPES = [
  { rows: 64, cols: 32 },
  { rows: 130, cols: 33 },
];

interface Case {
  id: string;
  op: string;
  backend: string;
  error?: string;
  reps: number;
  seconds: number[];
  medianS: number;
  minS: number;
  maxS: number;
  p10S: number;
  p90S: number;
  bytes: number;
  bytesPerElement: number;
  gbps: number;
  percentOfCeiling?: number;
  timeVsAdam?: number;
  speedup?: Record<string, number>;
  stateBytes?: number;
}

function runBench() {
  const dist = join(root, 'dist', 'index.js');
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first');
  execFileSync(
    process.execPath,
    ['bench/benchmark.js', '--quick', '--shapes',
      SHAPES.map((s) => `${s.rows}x${s.cols}`).join(','), '--out', out],
    { cwd: root, stdio: 'pipe', timeout: 90_000 },
  );
  return JSON.parse(readFileSync(join(out, 'quick-custom.json'), 'utf8'));
}

describe('npm run bench -- --quick (tiny shapes)', () => {
  const report = runBench();
  const available = backends().filter((b) => b.available).map((b) => b.name);

  test('describes the machine and the run', () => {
    expect(report.format).toBe('coupled-adam-bench');
    expect(report.mode).toBe('quick');
    expect(report.customShapes).toBe(true);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.memoryGiB).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.os).toMatch(/\S/);
    if (available.includes('native')) {
      expect(report.machine.addon.threads).toBeGreaterThan(0);
      expect(typeof report.machine.addon.features.openmp).toBe('boolean');
    }
    expect(report.backends.map((b: { name: string }) => b.name)).toEqual(
      backends().map((b) => b.name));
    const md = readFileSync(join(out, 'quick-custom.md'), 'utf8');
    expect(md).toContain('| case | ms/step median |');
    for (const b of backends().filter((x) => !x.available)) {
      expect(md, 'unavailable backends are named with their reason').toContain(
        `${b.name} (${b.reason})`);
    }
  });

  test('ran every shape, each case with consistent timings and bytes', () => {
    expect(report.shapes.map((s: { rows: number; cols: number }) => [s.rows, s.cols])).toEqual(
      SHAPES.map((s) => [s.rows, s.cols]));
    for (const shape of report.shapes) {
      const n = shape.rows * shape.cols;
      expect(shape.elements).toBe(n);
      for (const c of shape.cases as Case[]) {
        if (c.error) continue;
        expect(c.reps).toBeGreaterThanOrEqual(1);
        expect(c.seconds).toHaveLength(c.reps);
        for (const s of c.seconds) expect(s).toBeGreaterThan(0);
        expect(c.minS).toBeLessThanOrEqual(c.p10S);
        expect(c.p10S).toBeLessThanOrEqual(c.medianS);
        expect(c.medianS).toBeLessThanOrEqual(c.p90S);
        expect(c.p90S).toBeLessThanOrEqual(c.maxS);
        expect(c.bytes).toBe(c.bytesPerElement * n);
        expect(c.gbps).toBeCloseTo(c.bytes / c.medianS / 1e9, 6);
      }
    }
  });

  test('covers every available backend, the ceilings and the tfjs peer', () => {
    for (const shape of report.shapes) {
      const byId = new Map((shape.cases as Case[]).map((c) => [c.id, c]));
      const ok = (id: string) => {
        const c = byId.get(id);
        expect(c, id).toBeDefined();
        expect(c!.error, `${id}: ${c!.error}`).toBeUndefined();
        return c!;
      };
      for (const name of available) {
        const coupled = ok(`coupled-${name}`);
        const adam = ok(`adam-${name}`);
        expect(coupled.bytesPerElement).toBe(24);
        expect(adam.bytesPerElement).toBe(28);
        expect(coupled.timeVsAdam).toBeCloseTo(coupled.medianS / adam.medianS, 9);
        expect(coupled.percentOfCeiling).toBeGreaterThan(0);
        expect(coupled.speedup!['tfjs-cpu']).toBeCloseTo(
          ok('tfjs-cpu').medianS / coupled.medianS, 9);
      }
      if (available.includes('native')) expect(ok('triad').bytesPerElement).toBe(12);
      expect(ok('copy-js').bytesPerElement).toBe(24);
      // tfjs Adam keeps two moments of n floats: its measured state must say so
      expect(ok('tfjs-cpu').stateBytes).toBe(8 * shape.elements);
      const wasm = byId.get('tfjs-wasm');
      expect(wasm, 'tfjs-wasm ran or says why not').toBeDefined();
      if (!wasm!.error) expect(wasm!.stateBytes).toBe(8 * shape.elements);
    }
  });

  test('reports optimizer state per optimizer and backend', () => {
    for (const shape of report.shapes) {
      const { rows, cols } = shape;
      for (const name of available) {
        const find = (optimizer: string) =>
          shape.memory.find((m: { optimizer: string; backend: string }) =>
            m.optimizer === optimizer && m.backend === name);
        expect(find('coupled').bytes).toBe(4 * (rows * cols + cols));
        expect(find('adamw').bytes).toBe(8 * rows * cols);
      }
    }
  });

  test('states that the targets need the GPT-2 shape', () => {
    expect(report.targets.shape).toBeNull();
    expect(report.targets.checks).toEqual([]);
  });
});

// CoupledAdam: coupled update for the embedding only, groups and schedules, non-finite steps,
// the state format's exact round trip, and import of the paper's full second moment.
import { describe, expect, it } from 'vitest';

import {
  adamStep,
  backends,
  CoupledAdam,
  coupledAdamStep,
  coupledSecondMomentFromFull,
  stateFromJSON,
  stateToJSON,
} from '../src/index.js';
import { PaperCoupledRef } from './reference.js';
import { minus, normals, relError, rng } from './util.js';

const V = 50, H = 8;

function model(seed: number) {
  const random = rng(seed);
  return {
    wte: { name: 'wte', param: normals(random, V * H, 0.02), grad: new Float32Array(V * H), embedding: { rows: V, cols: H } },
    w: { name: 'w', param: normals(random, 64, 0.02), grad: new Float32Array(64) },
    b: { name: 'b', param: new Float32Array(8), grad: new Float32Array(8) },
    random,
  };
}

function fillGrads(m: ReturnType<typeof model>) {
  for (const p of [m.wte, m.w, m.b]) p.grad.set(normals(m.random, p.grad.length));
}

describe('CoupledAdam', () => {
  it('steps the embedding with coupledAdamStep and the rest with adamStep, per group', () => {
    const m = model(1);
    const opt = new CoupledAdam(
      [
        { params: [m.w], weightDecay: 0.1 },
        { params: [m.wte, m.b], weightDecay: 0 },
      ],
      { lr: 3e-3, beta1: 0.9, beta2: 0.95, backend: 'js' },
    );
    const wte = { param: m.wte.param.slice(), expAvg: new Float32Array(V * H), expAvgSq: new Float32Array(H) };
    const w = { param: m.w.param.slice(), expAvg: new Float32Array(64), expAvgSq: new Float32Array(64) };
    for (let step = 1; step <= 4; step++) {
      fillGrads(m);
      const lr = 3e-3 * (1 - step / 10); // a schedule: lr changes between steps
      opt.lr = lr;
      expect(opt.step()).toEqual({ applied: true, step, backend: 'js' });
      const h = { lr, beta1: 0.9, beta2: 0.95, step, backend: 'js' as const };
      coupledAdamStep({ ...wte, grad: m.wte.grad }, { ...h, rows: V, cols: H });
      adamStep({ ...w, grad: m.w.grad }, { ...h, weightDecay: 0.1 });
      expect(m.wte.param).toEqual(wte.param);
      expect(m.w.param).toEqual(w.param);
    }
    expect(opt.stepCount).toBe(4);
    expect(opt.groups.map((g) => g.params)).toEqual([['w'], ['wte', 'b']]);
  });

  it('holds cols floats of second moment for the embedding instead of rows * cols', () => {
    const m = model(2);
    const coupled = new CoupledAdam([m.wte, m.w]);
    const { embedding: _e, ...plain } = m.wte;
    const adam = new CoupledAdam([plain, m.w]);
    expect(adam.stateBytes - coupled.stateBytes).toBe(4 * (V * H - H));
  });

  it('skips the whole step when any gradient is non-finite', () => {
    const m = model(3);
    const opt = new CoupledAdam([m.wte, m.w, m.b], { backend: 'auto' });
    fillGrads(m);
    opt.step();
    const before = structuredClone([m.wte.param, m.w.param, m.b.param, opt.stateDict()]);
    fillGrads(m);
    m.b.grad[3] = Infinity;
    expect(opt.step().applied).toBe(false);
    expect(opt.skippedSteps).toBe(1);
    expect(opt.stepCount).toBe(1);
    const after = [m.wte.param, m.w.param, m.b.param, opt.stateDict()];
    expect({ ...after[3], skippedSteps: 0 }).toEqual({ ...before[3], skippedSteps: 0 });
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
  });

  it('skips the whole step when the embedding gradient, checked by its own step, is non-finite', () => {
    // The embedding runs first and checks itself in its reduction; the others must stay as they are.
    const m = model(7);
    const opt = new CoupledAdam([m.w, m.b, m.wte]);
    fillGrads(m);
    opt.step();
    const before = structuredClone([m.wte.param, m.w.param, m.b.param, opt.stateDict()]);
    fillGrads(m);
    m.wte.grad[V * H - 1] = NaN;
    expect(opt.step()).toEqual({ applied: false, step: 1, backend: opt.backendName });
    const after = [m.wte.param, m.w.param, m.b.param, opt.stateDict()];
    expect({ ...after[3], skippedSteps: 0 }).toEqual({ ...before[3], skippedSteps: 0 });
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
  });

  it('round-trips its state exactly, through JSON too, and continues identically', () => {
    const a = model(4);
    const b = model(4);
    const optA = new CoupledAdam([{ params: [a.wte, a.b] }, { params: [a.w], weightDecay: 0.1 }], { avgScale: 0.5 });
    for (let s = 0; s < 3; s++) {
      fillGrads(a);
      optA.step();
    }
    optA.groups[1].lr = 7e-4;
    const saved = stateFromJSON(stateToJSON(optA.stateDict()));
    expect(saved).toEqual(optA.stateDict());

    const optB = new CoupledAdam([{ params: [b.wte, b.b] }, { params: [b.w] }]);
    b.wte.param.set(a.wte.param);
    b.w.param.set(a.w.param);
    b.b.param.set(a.b.param);
    optB.loadStateDict(saved);
    expect(optB.stateDict()).toEqual(optA.stateDict());
    for (let s = 0; s < 2; s++) {
      fillGrads(a);
      for (const k of ['wte', 'w', 'b'] as const) b[k].grad.set(a[k].grad);
      optA.step();
      optB.step();
    }
    expect(b.wte.param).toEqual(a.wte.param);
    expect(b.w.param).toEqual(a.w.param);
  });

  it('stateFromJSON rejects corrupted base64 and text that is not a string', () => {
    const m = model(7);
    const opt = new CoupledAdam([m.w]);
    const json = stateToJSON(opt.stateDict());
    const tensor = /"expAvg":\{"float32":"([^"]*)"/.exec(json)![1];
    // one character replaced: Node's decoder used to skip it and decode three bytes fewer
    const corrupt = json.replace(tensor, `@${tensor.slice(1)}`);
    expect(() => stateFromJSON(corrupt)).toThrow(new RangeError('stateFromJSON: expected base64 ' +
      `text for the tensor at "expAvg" but received "@${tensor.slice(1, 40)}..."`));
    const short = json.replace(tensor, tensor.slice(0, -8) + 'AAA=');
    expect(() => stateFromJSON(short)).toThrow(new RangeError('stateFromJSON: expected a multiple ' +
      'of 4 bytes (whole float32 values) for the tensor at "expAvg" but received 254 bytes'));
    expect(() => stateFromJSON(undefined as never)).toThrow(new TypeError(
      'stateFromJSON: expected a string (from stateToJSON) for text but received undefined'));
  });

  it('rejects a state that does not fit and changes nothing', () => {
    const m = model(5);
    const opt = new CoupledAdam([m.wte, m.w]);
    fillGrads(m);
    opt.step();
    const good = opt.stateDict();
    const before = structuredClone(good);
    const bad = structuredClone(good);
    bad.params.w.expAvg = new Float32Array(3);
    expect(() => opt.loadStateDict(bad)).toThrow(
      'CoupledAdam.loadStateDict: expected a Float32Array of 64 elements (param\'s length) for state.params["w"].expAvg but received Float32Array(3)');
    expect(() => opt.loadStateDict({ ...good, version: 2 as never })).toThrow(
      'CoupledAdam.loadStateDict: expected 1 for state.version but received 2');
    // tampered values: each used to load, the negative moments to give NaN parameters next step
    const negative = structuredClone(good);
    negative.params.w.expAvgSq[5] = -1;
    expect(() => opt.loadStateDict(negative)).toThrow(new RangeError('CoupledAdam.loadStateDict: ' +
      'expected second moments >= 0 for state.params["w"].expAvgSq but received -1 at index 5'));
    const full = structuredClone(good);
    full.params.wte.expAvgSq = new Float32Array(V * H).fill(-2);
    expect(() => opt.loadStateDict(full)).toThrow(new RangeError('CoupledAdam.loadStateDict: ' +
      'expected second moments >= 0 for state.params["wte"].expAvgSq but received -2 at index 0'));
    expect(() => opt.loadStateDict({ ...good, step: Number.MAX_SAFE_INTEGER })).toThrow(new RangeError(
      'CoupledAdam.loadStateDict: expected an integer in [0, 9007199254740990] for state.step ' +
      'but received 9007199254740991'));
    expect(() => opt.loadStateDict({ ...good, skippedSteps: 1.5 })).toThrow(new RangeError(
      'CoupledAdam.loadStateDict: expected an integer >= 0 for state.skippedSteps but received 1.5'));
    expect(opt.stateDict()).toEqual(before);
  });

  const here = backends().filter((b) => b.available && (b.name === 'js' || b.name === 'native'));
  for (const { name: backend } of here) {
    it(`rejects a buffer detached after construction and changes nothing (${backend})`, () => {
      const m = model(6);
      const opt = new CoupledAdam([m.wte, m.w], { backend });
      fillGrads(m);
      opt.step();
      const state = opt.stateDict();
      const wte = m.wte.param.slice();
      // the last parameter's grad: a backend used to update wte first, then fail (or, js, go on)
      structuredClone(m.w.grad.buffer, { transfer: [m.w.grad.buffer] });
      expect(() => opt.step()).toThrow(new RangeError('CoupledAdam.step: expected a ' +
        'Float32Array of 64 elements (its length at construction) for w.grad but received ' +
        'Float32Array(0)'));
      expect(m.wte.param).toEqual(wte);
      expect(opt.stateDict()).toEqual(state);
    });
  }

  it("imports the paper's full per-element second moment as its vocabulary mean", () => {
    // The reference code keeps v[rows, cols]; after 30 steps, continue from its state with ours.
    const random = rng(6);
    const shape = { rows: V, cols: H, vocabAxis: 0 as const };
    const h = { lr: 2e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, avgScale: 1 };
    const init = normals(random, V * H, 0.02);
    const paper = new PaperCoupledRef(init, shape);
    const grads = Array.from({ length: 40 }, () => normals(random, V * H));
    grads.slice(0, 30).forEach((g) => paper.update(g, h));

    const param = Float32Array.from(paper.param);
    const grad = new Float32Array(V * H);
    const opt = new CoupledAdam([{ name: 'wte', param, grad, embedding: shape }], { ...h, backend: 'js' });
    const state = opt.stateDict();
    state.step = 30;
    state.params.wte.expAvg = Float32Array.from(paper.expAvg);
    state.params.wte.expAvgSq = Float32Array.from(paper.fullExpAvgSq); // full, V * H
    opt.loadStateDict(state);
    expect(relError(opt.stateDict().params.wte.expAvgSq,
      coupledSecondMomentFromFull(Float32Array.from(paper.fullExpAvgSq), shape))).toBe(0);

    const start = param.slice();
    const paperStart = paper.param.slice();
    grads.slice(30).forEach((g) => {
      grad.set(g);
      opt.step();
      paper.update(g, h);
    });
    expect(relError(minus(param, start), minus(paper.param, paperStart))).toBeLessThan(1e-5);
  });

  it('converts a transposed full second moment along the vocabulary axis', () => {
    // [cols=2, rows=3] storage: hidden unit 0 holds 1, 2, 3; hidden unit 1 holds 4, 5, 6
    const full = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(coupledSecondMomentFromFull(full, { rows: 3, cols: 2, vocabAxis: 1 })).toEqual(
      Float32Array.from([2, 5]));
    expect(coupledSecondMomentFromFull(full, { rows: 3, cols: 2 })).toEqual(Float32Array.from([3, 4]));
  });
});

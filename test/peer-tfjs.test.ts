// A peer as oracle: adamStep on every available backend matches TensorFlow.js's tf.train.adam
// (CPU backend, float32) on the same inputs over several steps. Weight decay 0: tfjs's Adam
// has none.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

import { adamStep, backends } from '../src/index.js';
import { minus, normals, relError, rng } from './util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe.each(backends())('adamStep on $name against tf.train.adam', (info) => {
  if (!info.available) {
    it.skip(`skipped: ${info.reason}`, () => {});
    return;
  }
  it.each([[1], [37], [4096 + 3]])('%i elements, 6 steps', (n) => {
    const random = rng(n);
    const lr = 5e-3, beta1 = 0.85, beta2 = 0.98, eps = 1e-7;
    const init = normals(random, n, 0.02);
    const variable = tf.variable(tf.tensor1d(init), true, `p${n}${info.name}`);
    const optimizer = tf.train.adam(lr, beta1, beta2, eps);
    const t = { param: init.slice(), expAvg: new Float32Array(n), expAvgSq: new Float32Array(n) };
    // Updates of all six steps side by side, compared as one tensor: a single element's update
    // can cancel to near zero at one step, where float32 rounding of m dominates its value.
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let step = 1; step <= 6; step++) {
      const grad = normals(random, n);
      const before = t.param.slice();
      const tfBefore = variable.dataSync().slice();
      adamStep({ ...t, grad }, { step, lr, beta1, beta2, eps, backend: info.name });
      tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(grad) }]));
      ours.push(...minus(t.param, before));
      theirs.push(...minus(variable.dataSync(), tfBefore));
    }
    expect(relError(ours, theirs)).toBeLessThan(1e-5);
    expect(relError(t.param, variable.dataSync())).toBeLessThan(1e-5);
    optimizer.dispose();
    variable.dispose();
  });
});

// CoupledAdam: an optimizer over named parameters. The embedding matrix gets the coupled
// update, every other parameter plain AdamW with the same betas and eps (the paper's setup).
import { resolveBackend } from './backends/registry.js';
import {
  STATE_FORMAT,
  STATE_VERSION,
  meanOverVocabulary,
  type OptimizerState,
  type ParamState,
} from './state.js';
import { checkDeviceArray, isDeviceArray, resolveDeviceBackend } from './device.js';
import { checkBackend, checkFiniteFlag, checkHyper, checkVocabAxis } from './steps.js';
import type {
  Backend,
  BackendChoice,
  BackendName,
  CoupledShape,
  DeviceAdamTensors,
  DeviceArrayLike,
  Hyper,
} from './types.js';
import { Checker } from './validate.js';

export interface ParamSpec {
  /** Unique name, the key of this parameter's state. */
  name: string;
  /**
   * The parameter, updated in place. A device array (CudaArray) keeps the parameter, its
   * gradient and its state on the device, with backend 'cuda' (or 'auto').
   */
  param: Float32Array | DeviceArrayLike;
  /** Its gradient buffer, read at every step(): write each new gradient into it. */
  grad: Float32Array | DeviceArrayLike;
  /** Marks the embedding matrix: it gets the coupled update. */
  embedding?: { rows: number; cols: number; vocabAxis?: 0 | 1 };
}

export interface ParamGroup {
  params: ParamSpec[];
  /** Overrides the optimizer's lr for this group. */
  lr?: number;
  /** Overrides the optimizer's weightDecay for this group. */
  weightDecay?: number;
}

export interface CoupledAdamConfig {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  avgScale?: number;
  backend?: BackendChoice;
  /** Default true: a step with any non-finite gradient is skipped whole. */
  checkFinite?: boolean;
}

export interface OptimizerStepResult {
  applied: boolean;
  /** Steps applied so far, this one included. */
  step: number;
  backend: BackendName;
}

/** A parameter group; lr and weightDecay may be changed between steps (schedules). */
export interface Group {
  lr: number;
  weightDecay: number;
  readonly params: readonly string[];
}

type Tensor = Float32Array | DeviceArrayLike;

interface Entry {
  name: string;
  group: Group;
  param: Tensor;
  grad: Tensor;
  shape?: CoupledShape;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

/** Host (param, grad and state in Float32Arrays) or device (all in device arrays). */
interface HostEntry extends Entry {
  param: Float32Array;
  grad: Float32Array;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}
interface DeviceEntry extends Entry {
  param: DeviceArrayLike;
  grad: DeviceArrayLike;
  expAvg: DeviceArrayLike;
  expAvgSq: DeviceArrayLike;
}

const onHost = (e: Entry): e is HostEntry => e.param instanceof Float32Array;
const hostCopy = (x: Tensor): Float32Array =>
  x instanceof Float32Array ? x.slice() : x.toFloat32Array();

const CONFIG_KEYS = [
  'lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'avgScale', 'backend', 'checkFinite'];

export class CoupledAdam {
  readonly groups: Group[];
  private readonly backend: Backend;
  readonly checkFinite: boolean;
  private hyper: Omit<Hyper, 'lr' | 'weightDecay' | 'step'>;
  private entries: Entry[] = [];
  private applied = 0;
  private skipped = 0;

  constructor(params: ParamSpec[] | ParamGroup[], config: CoupledAdamConfig = {}) {
    const c = new Checker('CoupledAdam');
    const o = c.object('config', config);
    c.knownKeys('config', o, CONFIG_KEYS);
    const base = checkHyper(c, o, 'config.', false);
    this.hyper = { beta1: base.beta1, beta2: base.beta2, eps: base.eps, avgScale: base.avgScale };
    this.checkFinite = checkFiniteFlag(c, 'config.checkFinite', o.checkFinite);
    const choice = checkBackend(c, 'config.backend', o.backend);

    if (!Array.isArray(params) || params.length === 0) {
      c.type('params', 'a non-empty array of parameters or parameter groups', params);
    }
    const grouped = params.every((p) => p && typeof p === 'object' && 'params' in p);
    const groups = (grouped ? params : [{ params }]) as ParamGroup[];
    this.groups = groups.map((g, gi) => this.addGroup(c, g, gi, base));
    const host = this.entries.filter(onHost);
    c.disjoint(host.flatMap((e) => [
      [`${e.name}.param`, e.param] as const,
      [`${e.name}.grad`, e.grad] as const,
    ]));
    const device = this.entries.filter((e): e is DeviceEntry => !onHost(e));
    const seen = new Map<DeviceArrayLike, string>();
    for (const e of device) {
      for (const [name, x] of [[`${e.name}.param`, e.param], [`${e.name}.grad`, e.grad]] as const) {
        const other = seen.get(x);
        if (other) throw new RangeError(c.message(name, `memory separate from ${other}`,
          'the same device array'));
        seen.set(x, name);
      }
    }
    if (device.length > 0) {
      const backend = resolveDeviceBackend('CoupledAdam', choice);
      for (const e of device) {
        e.expAvg = backend.device.zeros(e.param.length);
        e.expAvgSq = backend.device.zeros(e.shape ? e.shape.cols : e.param.length);
      }
      this.backend = backend;
    } else {
      this.backend = resolveBackend('CoupledAdam', choice);
    }
  }

  private addGroup(c: Checker, g: ParamGroup, gi: number, base: Hyper): Group {
    const at = `params[${gi}]`;
    c.object(at, g);
    const specs = g.params; // each property read once: a getter cannot change it after its check
    if (!Array.isArray(specs)) c.type(`${at}.params`, 'an array of parameters', specs);
    const names: string[] = [];
    const group: Group = {
      lr: c.number(`${at}.lr`, g.lr ?? base.lr, 0),
      weightDecay: c.number(`${at}.weightDecay`, g.weightDecay ?? base.weightDecay, 0),
      params: names,
    };
    specs.forEach((p, pi) => names.push(this.addParam(c, p, `${at}.params[${pi}]`, group)));
    return group;
  }

  private addParam(c: Checker, p: ParamSpec, at: string, group: Group): string {
    const spec = c.object(at, p);
    c.knownKeys(at, spec, ['name', 'param', 'grad', 'embedding']);
    const { name, param: paramIn, grad: gradIn, embedding } = spec;
    if (typeof name !== 'string' || name === '') c.type(`${at}.name`, 'a non-empty string', name);
    if (this.entries.some((e) => e.name === name)) {
      c.range(`${at}.name`, 'a name not used by another parameter', name);
    }
    const device = isDeviceArray(paramIn);
    const param = device ? checkDeviceArray(c, `${at}.param`, paramIn)
      : c.float32(`${at}.param`, paramIn);
    const grad = device
      ? checkDeviceArray(c, `${at}.grad`, gradIn, param.length, "param's length", true)
      : c.float32(`${at}.grad`, gradIn, param.length, "param's length");
    if (param.length === 0) c.range(`${at}.param`, 'a non-empty Float32Array', param);
    let shape: CoupledShape | undefined;
    if (embedding !== undefined) {
      const e = c.object(`${at}.embedding`, embedding);
      c.knownKeys(`${at}.embedding`, e, ['rows', 'cols', 'vocabAxis']);
      shape = {
        rows: c.positiveInteger(`${at}.embedding.rows`, e.rows),
        cols: c.positiveInteger(`${at}.embedding.cols`, e.cols),
        vocabAxis: checkVocabAxis(c, `${at}.embedding.vocabAxis`, e.vocabAxis),
      };
      if (shape.rows * shape.cols !== param.length) {
        c.range(`${at}.param`, `a Float32Array of ${shape.rows * shape.cols} elements ` +
          '(embedding.rows * embedding.cols)', param);
      }
    }
    // Device state is allocated once the backend is known (in the constructor).
    const stateOnHost = !device;
    this.entries.push({
      name, group, param, grad, shape,
      expAvg: new Float32Array(stateOnHost ? param.length : 0),
      expAvgSq: new Float32Array(stateOnHost ? (shape ? shape.cols : param.length) : 0),
    });
    return name;
  }

  /** The backend every step of this optimizer runs on. */
  get backendName(): BackendName {
    return this.backend.name;
  }

  /** Steps applied so far. */
  get stepCount(): number {
    return this.applied;
  }

  /** Steps skipped because a gradient was NaN or infinite. */
  get skippedSteps(): number {
    return this.skipped;
  }

  /** The first group's lr; setting it sets every group's (a single-schedule shorthand). */
  get lr(): number {
    return this.groups[0].lr;
  }

  set lr(lr: number) {
    for (const g of this.groups) g.lr = lr;
  }

  /** Bytes of optimizer state: expAvg and expAvgSq of every parameter. */
  get stateBytes(): number {
    return this.entries.reduce((s, e) => s + e.expAvg.byteLength + e.expAvgSq.byteLength, 0);
  }

  /** Sets every gradient buffer to zero. */
  zeroGrad(): void {
    for (const e of this.entries) e.grad.fill(0);
  }

  /**
   * One update of every parameter from its gradient buffer. With checkFinite (the default),
   * a non-finite gradient anywhere skips the whole step: nothing changes, the step count
   * does not advance, and the result says applied: false.
   */
  step(): OptimizerStepResult {
    const c = new Checker('CoupledAdam.step');
    this.groups.forEach((g, gi) => {
      c.number(`groups[${gi}].lr`, g.lr, 0);
      c.number(`groups[${gi}].weightDecay`, g.weightDecay, 0);
    });
    const host = this.entries.filter(onHost);
    this.checkHostLengths(c, host);
    const device = this.entries.filter((e): e is DeviceEntry => !onHost(e));
    const step = this.applied + 1;
    const hyperOf = (g: Group): Hyper =>
      ({ ...this.hyper, lr: g.lr, weightDecay: g.weightDecay, step });
    const skip = () => {
      this.skipped++;
      return { applied: false, step: this.applied, backend: this.backend.name };
    };
    // The coupled step's reduction reads every gradient anyway and checks them for free, before
    // it writes anything: the first coupled host parameter runs first, with that check, and is
    // left out of the scan of all the others.
    const lead = this.checkFinite ? host.find((e) => e.shape) : undefined;
    const scanned = host.filter((e) => e !== lead);
    // Device grads are scanned together: one wait for the verdict, whatever their number.
    const finite = !this.checkFinite || (scanned.every((e) => this.backend.allFinite(e.grad)) &&
      (device.length === 0 || this.backend.device!.allFinite(device.map((e) => e.grad))));
    if (!finite) return skip();

    const tensors = (e: HostEntry) =>
      ({ param: e.param, grad: e.grad, expAvg: e.expAvg, expAvgSq: e.expAvgSq });
    if (lead && !this.backend.coupledStep(tensors(lead), lead.shape!, hyperOf(lead.group), true,
      true)) {
      return skip();
    }
    for (const e of scanned) {
      // resident: only the optimizer lets a device backend (gpujs) keep the moments there
      if (e.shape) this.backend.coupledStep(tensors(e), e.shape, hyperOf(e.group), false, true);
      else this.backend.adamStep(tensors(e), hyperOf(e.group), false, true);
    }
    // On the device: the coupled matrices one by one, every group's AdamW tensors together.
    for (const g of this.groups) {
      const mine = device.filter((e) => e.group === g);
      const adamw: DeviceAdamTensors[] = [];
      for (const e of mine) {
        const t = { param: e.param, grad: e.grad, expAvg: e.expAvg, expAvgSq: e.expAvgSq };
        if (e.shape) this.backend.device!.coupledStep(t, e.shape, hyperOf(g), false);
        else adamw.push(t);
      }
      if (adamw.length > 0) this.backend.device!.adamMultiStep(adamw, hyperOf(g));
    }
    this.applied = step;
    return { applied: true, step, backend: this.backend.name };
  }

  /**
   * step() for backends whose work is asynchronous (gpujs in its webgpu mode); on the others
   * it is step(). Await it before the next step and before reading the parameters.
   */
  async stepAsync(): Promise<OptimizerStepResult> {
    const b = this.backend;
    if (!b.coupledStepAsync || !b.adamStepAsync) return this.step();
    const c = new Checker('CoupledAdam.stepAsync');
    this.groups.forEach((g, gi) => {
      c.number(`groups[${gi}].lr`, g.lr, 0);
      c.number(`groups[${gi}].weightDecay`, g.weightDecay, 0);
    });
    const host = this.entries.filter(onHost); // async backends have no device arrays
    this.checkHostLengths(c, host);
    if (this.checkFinite && !host.every((e) => b.allFinite(e.grad))) {
      this.skipped++;
      return { applied: false, step: this.applied, backend: b.name };
    }
    const step = this.applied + 1;
    for (const e of host) {
      const h: Hyper = { ...this.hyper, lr: e.group.lr, weightDecay: e.group.weightDecay, step };
      const t = { param: e.param, grad: e.grad, expAvg: e.expAvg, expAvgSq: e.expAvgSq };
      if (e.shape) await b.coupledStepAsync(t, e.shape, h, false, true);
      else await b.adamStepAsync(t, h, false, true);
    }
    this.applied = step;
    return { applied: true, step, backend: b.name };
  }

  /**
   * The caller's buffers can change length after construction (an ArrayBuffer transferred or
   * detached, a resizable one resized): checked before any parameter is touched, since a
   * backend would otherwise fail half way through the step, or the js one read past the end.
   */
  private checkHostLengths(c: Checker, host: HostEntry[]): void {
    for (const e of host) {
      c.float32(`${e.name}.param`, e.param, e.expAvg.length, 'its length at construction');
      c.float32(`${e.name}.grad`, e.grad, e.expAvg.length, 'its length at construction');
    }
  }

  /** Host moments that a device backend (gpujs) may hold newer copies of. */
  private residentArrays(): Float32Array[] {
    return this.entries.filter(onHost).flatMap((e) => [e.expAvg, e.expAvgSq]);
  }

  /**
   * stateDict() where the backend keeps the moments on a device with asynchronous readback
   * (gpujs in webgpu mode, after stepAsync); elsewhere the same as stateDict().
   */
  async stateDictAsync(): Promise<OptimizerState> {
    await this.backend.readStateAsync?.(this.residentArrays());
    return this.stateDict();
  }

  /** Frees the optimizer's device state now (without it, the garbage collector does). */
  dispose(): void {
    for (const e of this.entries.filter((x): x is DeviceEntry => !onHost(x))) {
      e.expAvg.dispose();
      e.expAvgSq.dispose();
    }
  }

  /** A copy of the whole state (on the host), in the format that loadStateDict reads. */
  stateDict(): OptimizerState {
    this.backend.readState?.(this.residentArrays());
    const params: Record<string, ParamState> = {};
    for (const e of this.entries) {
      params[e.name] = {
        kind: e.shape ? 'coupled' : 'adamw',
        length: e.param.length,
        ...(e.shape ?? {}),
        expAvg: hostCopy(e.expAvg),
        expAvgSq: hostCopy(e.expAvgSq),
      };
    }
    return {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      step: this.applied,
      skippedSteps: this.skipped,
      hyper: { ...this.hyper },
      groups: this.groups.map((g) => ({ lr: g.lr, weightDecay: g.weightDecay, params: [...g.params] })),
      params,
    };
  }

  /**
   * Restores a state from stateDict() (lr, weight decay, betas, eps, avgScale and moments).
   * A coupled parameter also takes a full per-element expAvgSq, as the paper's PyTorch code
   * stores it, and keeps its vocabulary mean. Everything is checked before anything changes.
   */
  loadStateDict(state: OptimizerState): void {
    const c = new Checker('CoupledAdam.loadStateDict');
    const s = c.object('state', state);
    if (s.format !== STATE_FORMAT) c.range('state.format', `"${STATE_FORMAT}"`, s.format);
    if (s.version !== STATE_VERSION) c.range('state.version', String(STATE_VERSION), s.version);
    const applied = c.number('state.step', s.step, 0);
    const skipped = c.number('state.skippedSteps', s.skippedSteps ?? 0, 0);
    // the next step must be a safe integer too: the backends' checks would refuse it mid-step
    if (!Number.isSafeInteger(applied + 1)) {
      c.range('state.step', `an integer in [0, ${Number.MAX_SAFE_INTEGER - 1}]`, applied);
    }
    if (!Number.isSafeInteger(skipped)) c.range('state.skippedSteps', 'an integer >= 0', skipped);
    const h = c.object('state.hyper', s.hyper);
    const hyper = checkHyper(c, h, 'state.hyper.', false);
    const groups = s.groups as OptimizerState['groups'];
    if (!Array.isArray(groups) || groups.length !== this.groups.length) {
      c.range('state.groups', `an array of ${this.groups.length} groups`, groups);
    }
    const settings = groups.map((g, gi) => {
      const names = this.groups[gi].params;
      if (!Array.isArray(g?.params) || g.params.join('\0') !== names.join('\0')) {
        c.range(`state.groups[${gi}].params`, `the names ${JSON.stringify(names)}`, g?.params);
      }
      return {
        lr: c.number(`state.groups[${gi}].lr`, g.lr, 0),
        weightDecay: c.number(`state.groups[${gi}].weightDecay`, g.weightDecay, 0),
      };
    });
    const params = c.object('state.params', s.params);
    const moments = this.entries.map((e) => this.checkParamState(c, e, params[e.name]));
    for (const name of Object.keys(params)) {
      if (!this.entries.some((e) => e.name === name)) {
        c.range(`state.params`, 'only names of this optimizer\'s parameters', name);
      }
    }

    // everything checked: apply
    this.backend.dropState?.(this.residentArrays());
    this.entries.forEach((e, k) => {
      e.expAvg.set(moments[k].expAvg);
      e.expAvgSq.set(moments[k].expAvgSq);
    });
    settings.forEach((g, gi) => Object.assign(this.groups[gi], g));
    this.hyper = { beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.eps, avgScale: hyper.avgScale };
    this.applied = applied;
    this.skipped = skipped;
  }

  private checkParamState(c: Checker, e: Entry, value: unknown) {
    const at = `state.params[${JSON.stringify(e.name)}]`;
    const p = c.object(at, value);
    const kind = e.shape ? 'coupled' : 'adamw';
    if (p.kind !== kind) c.range(`${at}.kind`, `"${kind}"`, p.kind);
    const expAvg = c.float32(`${at}.expAvg`, p.expAvg, e.param.length, "param's length");
    if (!e.shape) {
      const expAvgSq = c.float32(`${at}.expAvgSq`, p.expAvgSq, e.param.length, "param's length");
      nonNegative(c, `${at}.expAvgSq`, expAvgSq);
      return { expAvg, expAvgSq };
    }
    const { rows, cols } = e.shape;
    if (p.rows !== rows || p.cols !== cols || (p.vocabAxis ?? 0) !== e.shape.vocabAxis) {
      c.range(`${at}`, `the shape ${rows} x ${cols}, vocabAxis ${e.shape.vocabAxis}`,
        `${String(p.rows)} x ${String(p.cols)}, vocabAxis ${String(p.vocabAxis)}`);
    }
    const sq = p.expAvgSq;
    if (sq instanceof Float32Array && sq.length === rows * cols && rows > 1) {
      const full = c.float32(`${at}.expAvgSq`, sq, rows * cols);
      nonNegative(c, `${at}.expAvgSq`, full);
      return { expAvg, expAvgSq: meanOverVocabulary(full, e.shape) };
    }
    const expAvgSq = c.float32(`${at}.expAvgSq`, sq, cols,
      `cols, or rows * cols for a full second moment`);
    nonNegative(c, `${at}.expAvgSq`, expAvgSq);
    return { expAvg, expAvgSq };
  }
}

/**
 * A second moment is a moving average of squares: a negative one (a tampered or foreign
 * state) would load, and the next step would take its square root and write NaN parameters.
 */
function nonNegative(c: Checker, argument: string, x: Float32Array): void {
  const k = x.findIndex((v) => v < 0);
  if (k >= 0) {
    throw new RangeError(c.message(argument, 'second moments >= 0', `${x[k]} at index ${k}`));
  }
}

// A GPT-2-style decoder in plain TypeScript: token embedding plus learned positions, pre-LN
// blocks (causal multi-head attention, GeLU MLP), a final LayerNorm, and an output layer that
// is the token embedding itself unless untied. Forward and backward by hand, in data order.
import {
  attentionBackward, attentionForward, crossEntropyBackward, crossEntropyForward,
  geluBackward, geluForward, layerNormBackward, layerNormForward, linearBackward, linearForward,
} from './ops.js';
import { Rng } from './rng.js';

export interface ModelConfig {
  /** V: vocabulary size. */
  vocabSize: number;
  /** T: the longest sequence (positions learned). */
  contextLength: number;
  /** C: width of the residual stream. */
  width: number;
  /** L: number of blocks. */
  layers: number;
  /** NH: attention heads; width must be a multiple of it. */
  heads: number;
  /** Default true: logits = x . wte^T (GPT-2's weight tying). False adds lmHead [V, C]. */
  tiedOutput?: boolean;
}

/**
 * How the recipe treats a parameter: 'embedding' is wte, 'output' the untied lmHead, 'matrix'
 * gets weight decay (wpe and the block weights, as nanoGPT decays every 2-d tensor), 'vector'
 * (LayerNorm gains and biases) does not.
 */
export type ParamKind = 'embedding' | 'output' | 'matrix' | 'vector';

export interface Param {
  name: string;
  kind: ParamKind;
  /** Rows and columns, [n] for vectors. */
  shape: number[];
  data: Float32Array;
  grad: Float32Array;
}

interface Block {
  ln1w: Param; ln1b: Param; // [C]
  qkvw: Param; qkvb: Param; // [3C, C], [3C]
  projw: Param; projb: Param; // [C, C], [C]
  ln2w: Param; ln2b: Param; // [C]
  fcw: Param; fcb: Param; // [4C, C], [4C]
  fcprojw: Param; fcprojb: Param; // [C, 4C], [C]
}

/** What one block's forward keeps for its backward, for N = B * T positions. */
interface BlockActs {
  ln1: Float32Array; ln1Mean: Float32Array; ln1Rstd: Float32Array; // [N, C], [N], [N]
  qkv: Float32Array; // [N, 3C]
  att: Float32Array; // [B, NH, T, T]
  atty: Float32Array; // [N, C]
  resMid: Float32Array; // [N, C]: residual after attention
  ln2: Float32Array; ln2Mean: Float32Array; ln2Rstd: Float32Array;
  fch: Float32Array; // [N, 4C]
  fchGelu: Float32Array; // [N, 4C]
  resOut: Float32Array; // [N, C]: residual after the MLP, the next block's input
}

interface Acts {
  B: number; T: number;
  tokens: Int32Array; targets: Int32Array; // [N]
  res0: Float32Array; // [N, C]: embeddings of tokens plus positions
  blocks: BlockActs[];
  lnf: Float32Array; lnfMean: Float32Array; lnfRstd: Float32Array;
  probs: Float32Array; // [N, V]: logits, then probabilities, then dLogits
  // gradient scratch, reused by every block
  dRes: Float32Array; dLn: Float32Array; dQkv: Float32Array; dAtty: Float32Array;
  dFch: Float32Array; dFchGelu: Float32Array; dAtt: Float32Array;
}

export class GPT {
  readonly config: Required<ModelConfig>;
  readonly params: Param[] = [];
  readonly wte: Param; // [V, C]
  readonly wpe: Param; // [T, C]
  readonly blocks: Block[] = [];
  readonly lnfw: Param; readonly lnfb: Param; // [C]
  /** [V, C]: the untied output layer, or wte itself when tied. */
  readonly output: Param;
  private acts: Acts | null = null;
  private backwardReady = false;

  /** GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2L). */
  constructor(config: ModelConfig, seed: number) {
    const cfg = { tiedOutput: true, ...config };
    const { vocabSize: V, contextLength: T, width: C, layers: L, heads: NH } = cfg;
    for (const [k, v] of Object.entries({ V, T, C, L, NH })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`GPT: expected a positive integer for ${k} but received ${v}`);
      }
    }
    if (C % NH !== 0) {
      throw new RangeError(`GPT: expected width a multiple of heads (${NH}) but received ${C}`);
    }
    this.config = cfg;
    const rng = new Rng(seed);
    const residualStd = 0.02 / Math.sqrt(2 * L);

    this.wte = this.add('wte', 'embedding', [V, C], rng, 0.02);
    this.wpe = this.add('wpe', 'matrix', [T, C], rng, 0.02);
    for (let l = 0; l < L; l++) {
      const p = `h${l}.`;
      this.blocks.push({
        ln1w: this.add(p + 'ln1.weight', 'vector', [C], rng, 0, 1),
        ln1b: this.add(p + 'ln1.bias', 'vector', [C], rng, 0),
        qkvw: this.add(p + 'attn.qkv.weight', 'matrix', [3 * C, C], rng, 0.02),
        qkvb: this.add(p + 'attn.qkv.bias', 'vector', [3 * C], rng, 0),
        projw: this.add(p + 'attn.proj.weight', 'matrix', [C, C], rng, residualStd),
        projb: this.add(p + 'attn.proj.bias', 'vector', [C], rng, 0),
        ln2w: this.add(p + 'ln2.weight', 'vector', [C], rng, 0, 1),
        ln2b: this.add(p + 'ln2.bias', 'vector', [C], rng, 0),
        fcw: this.add(p + 'mlp.fc.weight', 'matrix', [4 * C, C], rng, 0.02),
        fcb: this.add(p + 'mlp.fc.bias', 'vector', [4 * C], rng, 0),
        fcprojw: this.add(p + 'mlp.proj.weight', 'matrix', [C, 4 * C], rng, residualStd),
        fcprojb: this.add(p + 'mlp.proj.bias', 'vector', [C], rng, 0),
      });
    }
    this.lnfw = this.add('lnf.weight', 'vector', [C], rng, 0, 1);
    this.lnfb = this.add('lnf.bias', 'vector', [C], rng, 0);
    this.output = cfg.tiedOutput ? this.wte : this.add('lmHead', 'output', [V, C], rng, 0.02);
  }

  private add(name: string, kind: ParamKind, shape: number[], rng: Rng, std: number, fill = 0) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = std > 0 ? std * rng.normal() : fill;
    const p: Param = { name, kind, shape, data, grad: new Float32Array(n) };
    this.params.push(p);
    return p;
  }

  /** Number of scalars in the parameters. */
  get size(): number {
    return this.params.reduce((s, p) => s + p.data.length, 0);
  }

  /**
   * Mean cross-entropy of predicting targets[b, t] from tokens[b, 0..t], both [B, T] row-major.
   * Keeps the activations for one backward().
   */
  forward(tokens: Int32Array, targets: Int32Array, B: number, T: number): number {
    const { vocabSize: V, width: C, heads: NH, contextLength } = this.config;
    const N = B * T;
    if (T > contextLength || tokens.length !== N || targets.length !== N) {
      throw new RangeError(`GPT.forward: expected ${B} x ${T} tokens and targets with ` +
        `T <= ${contextLength} but received ${tokens.length} and ${targets.length}`);
    }
    for (let n = 0; n < N; n++) {
      if (!(tokens[n] >= 0 && tokens[n] < V && targets[n] >= 0 && targets[n] < V)) {
        throw new RangeError(`GPT.forward: expected token ids in [0, ${V}) but received ` +
          `${tokens[n]} -> ${targets[n]} at ${n}`);
      }
    }
    const a = this.activations(B, T);
    a.tokens.set(tokens);
    a.targets.set(targets);

    // token embedding plus position embedding
    const wte = this.wte.data, wpe = this.wpe.data;
    for (let n = 0; n < N; n++) {
      const e = tokens[n] * C, p = (n % T) * C, r = n * C;
      for (let c = 0; c < C; c++) a.res0[r + c] = wte[e + c] + wpe[p + c];
    }

    // the blocks: x + attn(ln1(x)), then x + mlp(ln2(x))
    let res = a.res0;
    this.blocks.forEach((w, l) => {
      const s = a.blocks[l];
      layerNormForward(s.ln1, s.ln1Mean, s.ln1Rstd, res, w.ln1w.data, w.ln1b.data, N, C);
      linearForward(s.qkv, s.ln1, w.qkvw.data, w.qkvb.data, N, C, 3 * C);
      attentionForward(s.atty, s.att, s.qkv, B, T, C, NH);
      linearForward(s.resMid, s.atty, w.projw.data, w.projb.data, N, C, C);
      for (let i = 0; i < N * C; i++) s.resMid[i] += res[i];

      layerNormForward(s.ln2, s.ln2Mean, s.ln2Rstd, s.resMid, w.ln2w.data, w.ln2b.data, N, C);
      linearForward(s.fch, s.ln2, w.fcw.data, w.fcb.data, N, C, 4 * C);
      geluForward(s.fchGelu, s.fch, N * 4 * C);
      linearForward(s.resOut, s.fchGelu, w.fcprojw.data, w.fcprojb.data, N, 4 * C, C);
      for (let i = 0; i < N * C; i++) s.resOut[i] += s.resMid[i];
      res = s.resOut;
    });

    // final LayerNorm, logits against the (tied) output matrix, loss
    layerNormForward(a.lnf, a.lnfMean, a.lnfRstd, res, this.lnfw.data, this.lnfb.data, N, C);
    linearForward(a.probs, a.lnf, this.output.data, null, N, C, V);
    const loss = crossEntropyForward(a.probs, targets, N, V);
    this.backwardReady = true;
    return loss;
  }

  /** Adds d(loss)/d(param) of the last forward() into every param.grad. */
  backward(): void {
    const a = this.acts;
    if (a === null || !this.backwardReady) {
      throw new Error('GPT.backward: expected a forward() before it but received none');
    }
    this.backwardReady = false;
    const { vocabSize: V, width: C, heads: NH } = this.config;
    const { B, T } = a;
    const N = B * T;
    const lastRes = a.blocks.length > 0 ? a.blocks[a.blocks.length - 1].resOut : a.res0;

    // loss, output layer, final LayerNorm: dRes = d(loss)/d(last residual)
    crossEntropyBackward(a.probs, a.targets, N, V);
    linearBackward(a.dLn, this.output.grad, null, a.probs, a.lnf, this.output.data, N, C, V);
    a.dRes.fill(0);
    layerNormBackward(a.dRes, this.lnfw.grad, this.lnfb.grad, a.dLn, lastRes,
      this.lnfw.data, a.lnfMean, a.lnfRstd, N, C);

    // the blocks in reverse; the residual path passes dRes through unchanged
    for (let l = this.blocks.length - 1; l >= 0; l--) {
      const w = this.blocks[l], s = a.blocks[l];
      const res = l > 0 ? a.blocks[l - 1].resOut : a.res0;

      linearBackward(a.dFchGelu, w.fcprojw.grad, w.fcprojb.grad, a.dRes, s.fchGelu,
        w.fcprojw.data, N, 4 * C, C);
      a.dFch.fill(0);
      geluBackward(a.dFch, a.dFchGelu, s.fch, N * 4 * C);
      linearBackward(a.dLn, w.fcw.grad, w.fcb.grad, a.dFch, s.ln2, w.fcw.data, N, C, 4 * C);
      layerNormBackward(a.dRes, w.ln2w.grad, w.ln2b.grad, a.dLn, s.resMid, w.ln2w.data,
        s.ln2Mean, s.ln2Rstd, N, C);

      linearBackward(a.dAtty, w.projw.grad, w.projb.grad, a.dRes, s.atty, w.projw.data,
        N, C, C);
      a.dQkv.fill(0);
      attentionBackward(a.dQkv, a.dAtty, s.qkv, s.att, a.dAtt, B, T, C, NH);
      linearBackward(a.dLn, w.qkvw.grad, w.qkvb.grad, a.dQkv, s.ln1, w.qkvw.data, N, C, 3 * C);
      layerNormBackward(a.dRes, w.ln1w.grad, w.ln1b.grad, a.dLn, res, w.ln1w.data,
        s.ln1Mean, s.ln1Rstd, N, C);
    }

    // into the embedding rows of the tokens seen and the positions
    const dWte = this.wte.grad, dWpe = this.wpe.grad;
    for (let n = 0; n < N; n++) {
      const e = a.tokens[n] * C, p = (n % T) * C, r = n * C;
      for (let c = 0; c < C; c++) {
        dWte[e + c] += a.dRes[r + c];
        dWpe[p + c] += a.dRes[r + c];
      }
    }
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  private activations(B: number, T: number): Acts {
    if (this.acts && this.acts.B === B && this.acts.T === T) return this.acts;
    const { vocabSize: V, width: C, heads: NH } = this.config;
    const N = B * T;
    const f = (n: number) => new Float32Array(n);
    this.acts = {
      B, T,
      tokens: new Int32Array(N), targets: new Int32Array(N),
      res0: f(N * C),
      blocks: this.blocks.map(() => ({
        ln1: f(N * C), ln1Mean: f(N), ln1Rstd: f(N), qkv: f(N * 3 * C), att: f(B * NH * T * T),
        atty: f(N * C), resMid: f(N * C), ln2: f(N * C), ln2Mean: f(N), ln2Rstd: f(N),
        fch: f(N * 4 * C), fchGelu: f(N * 4 * C), resOut: f(N * C),
      })),
      lnf: f(N * C), lnfMean: f(N), lnfRstd: f(N),
      probs: f(N * V),
      dRes: f(N * C), dLn: f(N * C), dQkv: f(N * 3 * C), dAtty: f(N * C),
      dFch: f(N * 4 * C), dFchGelu: f(N * 4 * C), dAtt: f(T),
    };
    return this.acts;
  }
}

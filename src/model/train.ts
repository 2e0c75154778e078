/**
 * Training primitives shared by supervised warm-up (SFT) and the GRPO/MURPHY trainer:
 * - `sftLoss`: next-token cross-entropy averaged over the tokens a mask selects;
 * - `AdamW`: Adam with decoupled weight decay (Loshchilov & Hutter), as a tf.Optimizer;
 * - `optimizerStep`: one guarded update for any scalar loss: gradients of every weight, skip on
 *   NaN/Inf, clip by global norm, apply the optimizer.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "./gpt";
import { fusedTokenLogProbs } from "./logprob-op";
import { nativeAdamW, nativeSquaredNorms } from "./fused/optimizer";
import { oneHotFloat } from "./ops";

/** A tensor with a name, as tf.Optimizer.getWeights returns them (not re-exported by tfjs). */
type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Mean cross-entropy of `targets` under the model, over positions where `lossMask` is 1.
 * `ids, targets: [B, T]` int32 (targets[b, t] is the token that should follow ids[b, <= t]),
 * `lossMask: [B, T]` float32 of 0/1. Returns a scalar; an all-zero mask gives 0.
 */
export function sftLoss(model: GPT, ids: tf.Tensor2D, targets: tf.Tensor2D, lossMask: tf.Tensor2D): tf.Scalar {
  if (!tf.util.arraysEqual(ids.shape, targets.shape) || !tf.util.arraysEqual(ids.shape, lossMask.shape)) {
    throw new Error(`sftLoss: ids [${ids.shape}], targets [${targets.shape}] and lossMask [${lossMask.shape}] must have the same shape`);
  }
  if (targets.dtype !== "int32") throw new Error(`sftLoss: targets must be int32 (got ${targets.dtype})`);
  const V = model.config.vocabSize;
  return tf.tidy(() => {
    const logits = tf.reshape(model.logits(ids), [-1, V]) as tf.Tensor2D;
    const flatTargets = tf.reshape(targets, [-1]) as tf.Tensor1D;
    // One fused pass on wasm with the native kernels (./logprob-op); tf's log-softmax elsewhere.
    const picked =
      fusedTokenLogProbs(logits, flatTargets, 1)?.logp ?? tf.sum(tf.mul(tf.logSoftmax(logits), oneHotFloat(flatTargets, V)), -1);
    const mask = tf.cast(tf.reshape(lossMask, [-1]), "float32");
    // max(count, 1) keeps an all-zero mask at 0 instead of 0/0; with 0/1 masks it is exact.
    return tf.div(tf.sum(tf.mul(tf.neg(picked), mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

export interface AdamWConfig {
  /** Step size. Public on the optimizer so a schedule can change it between steps. */
  learningRate: number;
  /** Decay rate of the first moment (Adam's beta1). Default 0.9. */
  beta1?: number;
  /** Decay rate of the second moment (Adam's beta2). Default 0.95, as in GPT-style training. */
  beta2?: number;
  /** Added to the root of the second moment. Default 1e-8. */
  epsilon?: number;
  /**
   * Decoupled weight decay: each step multiplies matrix weights by (1 - lr * weightDecay),
   * separately from the gradient statistics (AdamW). RMSNorm gains (rank 1) are not decayed.
   * Default 0 (plain Adam).
   */
  weightDecay?: number;
}

/** Adam with decoupled weight decay, keeping its moments per variable name. */
export class AdamW extends tf.Optimizer {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();

  static get className(): string {
    return "MurphyAdamW";
  }

  constructor(config: AdamWConfig) {
    super();
    this.learningRate = config.learningRate;
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.95;
    this.epsilon = config.epsilon ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0;
    const checks: [string, number, boolean][] = [
      ["learningRate", this.learningRate, this.learningRate > 0],
      ["beta1", this.beta1, this.beta1 >= 0 && this.beta1 < 1],
      ["beta2", this.beta2, this.beta2 >= 0 && this.beta2 < 1],
      ["epsilon", this.epsilon, this.epsilon > 0],
      ["weightDecay", this.weightDecay, this.weightDecay >= 0],
    ];
    for (const [name, value, ok] of checks) {
      if (!ok || !Number.isFinite(value)) throw new Error(`AdamW: ${name} is out of range (got ${value})`);
    }
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const pairs = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor] as const)
      : Object.entries(variableGradients);
    this.applyGradientSums(new Map(pairs.map(([name, grad]) => [name, [grad]])), 1);
  }

  /**
   * One step with each variable's gradient given as parts to sum (e.g. one per micro-batch),
   * times `scale` (a global-norm clip): the same update as `applyGradients` of
   * `scale * (sum of the parts)`. With the native kernels all variables are updated in one
   * kernel launch (./fused/optimizer), parts summed and scaled there; otherwise with tf ops.
   */
  applyGradientSums(parts: Map<string, tf.Tensor[]>, scale: number): void {
    this.incrementIterations();
    const step = this.iterations;
    const lr = this.learningRate;
    // Bias corrections of the zero-initialised moments (Kingma & Ba, algorithm 1).
    const correction1 = 1 - this.beta1 ** step;
    const correction2 = 1 - this.beta2 ** step;
    const slots = [...parts].map(([name, grads]) => {
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`AdamW: no variable named "${name}"`);
      let state = this.moments.get(name);
      if (!state) {
        state = {
          // tf.variable keeps its own reference to the data; tidy frees the zerosLike handles.
          m: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
          v: tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        };
        this.moments.set(name, state);
      }
      const keep = this.weightDecay > 0 && variable.rank >= 2 ? 1 - lr * this.weightDecay : 1;
      return { variable, weight: variable as tf.Tensor, m: state.m, v: state.v, parts: grads, keep };
    });
    const hyper = { lr, beta1: this.beta1, beta2: this.beta2, correction1, correction2, epsilon: this.epsilon, scale };
    const fused = nativeAdamW(slots, hyper);
    if (fused) {
      slots.forEach((s, i) => {
        s.variable.assign(fused[i][0]);
        s.m.assign(fused[i][1]);
        s.v.assign(fused[i][2]);
      });
      tf.dispose(fused.flat());
      return;
    }
    for (const { variable, m, v, parts: grads, keep } of slots) {
      tf.tidy(() => {
        const summed = grads.length === 1 ? grads[0] : tf.addN(grads);
        const grad = scale === 1 ? summed : tf.mul(summed, scale);
        const mNew = tf.add(tf.mul(m, this.beta1), tf.mul(grad, 1 - this.beta1));
        const vNew = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(grad), 1 - this.beta2));
        m.assign(mNew);
        v.assign(vNew);
        const decayed = keep !== 1 ? tf.mul(variable, keep) : variable;
        const mHat = tf.div(mNew, correction1);
        const vHat = tf.div(vNew, correction2);
        variable.assign(tf.sub(decayed, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), lr)));
      });
    }
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  /** Iteration count, then `<variable>/m` and `<variable>/v` for every variable seen so far. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const [name, { m, v }] of this.moments) out.push({ name: `${name}/m`, tensor: m }, { name: `${name}/v`, tensor: v });
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    if (rest.length % 2 !== 0) throw new Error(`AdamW.setWeights: expected pairs of /m and /v tensors (got ${rest.length})`);
    this.dispose();
    for (let i = 0; i < rest.length; i += 2) {
      const [m, v] = [rest[i], rest[i + 1]];
      const name = m.name.replace(/\/m$/, "");
      if (m.name !== `${name}/m` || v.name !== `${name}/v`) {
        throw new Error(`AdamW.setWeights: expected "${name}/m" then "${name}/v" (got "${m.name}", "${v.name}")`);
      }
      this.moments.set(name, { m: tf.variable(m.tensor, false), v: tf.variable(v.tensor, false) });
    }
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

export interface OptimizerStepOptions {
  /** Rescale all gradients together so their global L2 norm is at most this. Default: no clip. */
  clipNorm?: number;
}

export interface OptimizerStepResult {
  /** The loss before the update. */
  loss: number;
  /** Global L2 norm of all gradients before clipping (NaN/Inf when the step was skipped for it). */
  gradNorm: number;
  /** True when the loss or a gradient was NaN/Inf: neither weights nor optimizer state changed. */
  skipped: boolean;
}

/**
 * One optimisation step on `lossFn()` (which must build its scalar from `model`'s weights):
 * gradients of every weight, then, unless the loss or the gradient norm is NaN/Inf, optional
 * clipping by global norm and `optimizer.applyGradients`. A skipped step leaves the weights and
 * the optimizer state (moments and iteration count) untouched, so one bad batch cannot poison
 * Adam's moments. The squared norm is summed in float32: a norm above ~1e19 also counts as Inf.
 */
export function optimizerStep(model: GPT, optimizer: tf.Optimizer, lossFn: () => tf.Scalar, opts: OptimizerStepOptions = {}): OptimizerStepResult {
  return applyAccumulated(model, optimizer, [lossFn], opts);
}

/**
 * `optimizerStep` over several micro-batches: the gradients of each `lossFns[i]()` are summed
 * (so the losses must already be normalised for the whole batch, e.g. by its token count) and
 * one update is applied. `loss` is the sum of the micro-batch losses. Only one micro-batch's
 * activations are alive at a time, which bounds memory for long sequences.
 */
export function applyAccumulated(model: GPT, optimizer: tf.Optimizer, lossFns: readonly (() => tf.Scalar)[], opts: OptimizerStepOptions = {}): OptimizerStepResult {
  const clipNorm = opts.clipNorm;
  if (clipNorm !== undefined && !(clipNorm > 0)) throw new Error(`optimizerStep: clipNorm must be > 0 (got ${clipNorm})`);
  if (lossFns.length === 0) throw new Error("applyAccumulated: needs at least one loss function");
  const variables = [...model.weights.values()];
  // Each weight's gradient of each micro-batch, summed only where needed (see gradientSquaredNorm).
  const parts = new Map<string, tf.Tensor[]>();
  let loss = 0;
  try {
    for (const lossFn of lossFns) {
      const { value, grads } = tf.variableGrads(lossFn, variables);
      loss += value.dataSync()[0];
      value.dispose();
      for (const [name, g] of Object.entries(grads)) parts.set(name, [...(parts.get(name) ?? []), g]);
    }
    const gradNorm = Math.sqrt(gradientSquaredNorm([...parts.values()]));
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return { loss, gradNorm, skipped: true };
    const scale = clipNorm !== undefined && gradNorm > clipNorm ? clipNorm / gradNorm : 1;
    // Not `instanceof`: tf.Optimizer's Symbol.hasInstance says yes for every optimizer.
    if (optimizer.getClassName() === AdamW.className) {
      // Sums the parts and applies the clip itself (in one native kernel where available).
      (optimizer as AdamW).applyGradientSums(parts, scale);
    } else {
      const grads = tf.tidy(() => Object.fromEntries([...parts].map(([name, g]) => {
        const summed = g.length === 1 ? g[0] : tf.addN(g);
        return [name, scale === 1 ? tf.clone(summed) : tf.mul(summed, scale)];
      })));
      try {
        optimizer.applyGradients(grads);
      } finally {
        tf.dispose(Object.values(grads));
      }
    }
    return { loss, gradNorm, skipped: false };
  } finally {
    tf.dispose([...parts.values()].flat());
  }
}

/**
 * Squared global L2 norm of gradients given per weight as parts to sum: one native kernel over
 * all weights (./fused/optimizer), else tf ops per weight; weights are added in double. The
 * squares of a weight are summed in float32 by tf (so a norm above ~1e19 counts as Inf).
 */
function gradientSquaredNorm(parts: tf.Tensor[][]): number {
  let perWeight = nativeSquaredNorms(parts);
  if (!perWeight) {
    const sums = tf.tidy(() => tf.stack(parts.map((g) => tf.sum(tf.square(g.length === 1 ? g[0] : tf.addN(g))))));
    perWeight = sums.dataSync() as Float32Array;
    sums.dispose();
  }
  return perWeight.reduce((a, b) => a + b, 0);
}

/**
 * An optimizer that changes nothing and keeps copies of the gradients it is given: for checking
 * that two ways of computing an update give the same gradient (bench/update.ts, tests), or for
 * looking at one in a notebook. `gradients` holds the last call's, by variable name.
 */
export class GradientCapture extends tf.Optimizer {
  gradients = new Map<string, tf.Tensor>();

  static get className(): string {
    return "MurphyGradientCapture";
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.dispose();
    const pairs = Array.isArray(variableGradients) ? variableGradients.map((g) => [g.name, g.tensor] as const) : Object.entries(variableGradients);
    for (const [name, grad] of pairs) this.gradients.set(name, tf.keep(tf.clone(grad)));
  }

  override dispose(): void {
    tf.dispose([...this.gradients.values()]);
    this.gradients.clear();
  }

  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

/**
 * Largest difference between two sets of gradients, each weight's relative to its own scale:
 * max over weights of `max|a - b| / max|a|` (0 when both are exactly equal; a weight whose `a`
 * is all zero is compared absolutely).
 */
export function maxRelativeGradientDifference(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>): number {
  let worst = 0;
  for (const [name, ga] of a) {
    const gb = b.get(name);
    if (!gb) throw new Error(`maxRelativeGradientDifference: weight "${name}" has no gradient in the second set`);
    const [diff, scale] = tf.tidy(() => [tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0], tf.max(tf.abs(ga)).dataSync()[0]]);
    worst = Math.max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

/**
 * The optimizer step of ../train.ts over every weight at once, with the native kernels: one
 * kernel launch for the gradient's global norm and one for AdamW on all weights, instead of a
 * few tf kernels per weight. The micro-batches' gradients of a weight are passed as a list and
 * summed inside both kernels (no add per weight and micro-batch), and the global-norm clip is a
 * factor of the AdamW kernel (no multiply per weight). Both return null without the native path;
 * ../train.ts then sums, clips and updates with tf ops (the same formulas).
 */
import * as tf from "@tensorflow/tfjs";
import { OP } from "../native-kernels";
import { defineNativeKernel } from "../native-heap";

interface NormAttrs {
  /** Gradient tensors per weight, in input order. */
  counts: number[];
}

/** Inputs: every weight's gradient parts, weight after weight -> [per-weight sum of squares]. */
const squaredNorms = defineNativeKernel<NormAttrs>("MurphySquaredNorms", (heap, inputs, { counts }) => {
  const out = heap.alloc([counts.length]);
  let next = 0;
  counts.forEach((k, i) => {
    const parts = inputs.slice(next, next + k);
    next += k;
    heap.run(OP.sumSquares, [heap.at(out) + i, tf.util.sizeFromShape(parts[0].shape), k, ...parts.map((t) => heap.at(t))]);
  });
  return [out];
});

/**
 * `sum over elements of (g_1 + ... + g_k)^2` for each weight's list of gradient parts (summed
 * in double within a weight), or null without the native path.
 */
export function nativeSquaredNorms(parts: tf.Tensor[][]): Float32Array | null {
  const out = squaredNorms(parts.flat(), { counts: parts.map((p) => p.length) });
  if (!out) return null;
  const values = out[0].dataSync() as Float32Array;
  out[0].dispose();
  return values;
}

/** AdamW's hyper-parameters for one step (see ../train.ts AdamW). */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  /** Bias corrections 1 - beta^t. */
  correction1: number;
  correction2: number;
  epsilon: number;
  /** Gradient factor (the global-norm clip; 1 for none). */
  scale: number;
}

interface AdamAttrs extends AdamStep {
  counts: number[];
  /** Per weight: 1 - lr * weightDecay for decayed weights, else 1. */
  keep: number[];
}

/** Inputs per weight: w, m, v, then its gradient parts -> outputs per weight: w', m', v'. */
const adamAll = defineNativeKernel<AdamAttrs>("MurphyAdamW", (heap, inputs, a) => {
  const outs: tf.TensorInfo[] = [];
  let next = 0;
  a.counts.forEach((k, i) => {
    const [w, m, v, ...parts] = inputs.slice(next, next + 3 + k);
    next += 3 + k;
    const fresh = [heap.alloc(w.shape), heap.alloc(w.shape), heap.alloc(w.shape)];
    outs.push(...fresh);
    const size = tf.util.sizeFromShape(w.shape);
    heap.run(OP.adam, [heap.at(w), heap.at(m), heap.at(v), size, a.lr, a.beta1, a.beta2, a.correction1, a.correction2, a.epsilon, a.keep[i], ...fresh.map((t) => heap.at(t)), a.scale, k, ...parts.map((t) => heap.at(t))]);
  });
  return outs;
});

/** One weight's state and gradient parts for `nativeAdamW`. */
export interface AdamSlot {
  weight: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
  parts: tf.Tensor[];
  keep: number;
}

/** New `[weight, m, v]` for every slot, in one kernel launch; null without the native path. */
export function nativeAdamW(slots: AdamSlot[], step: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor][] | null {
  const inputs = slots.flatMap((s) => [s.weight, s.m, s.v, ...s.parts]);
  const out = adamAll(inputs, { ...step, counts: slots.map((s) => s.parts.length), keep: slots.map((s) => s.keep) });
  if (!out) return null;
  return slots.map((_, i) => [out[3 * i], out[3 * i + 1], out[3 * i + 2]]);
}

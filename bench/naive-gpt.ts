/**
 * A straightforward tfjs GPT step, for comparison with the kit's fast ops (bench/train.ts
 * --naive): what one writes first, with tf's own gradients.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "../src/model/gpt";

/**
 * The straightforward tfjs forward pass: what one writes first. Same weights and maths as
 * GPT.logits, but dense layers are tf.matMul on 2-D views with tf's gradients (which use the
 * transposeA/transposeB forms), attention uses tf.matMul(q, k, false, true), and the embedding
 * is a one-hot matMul (tf.gather has no gradient on wasm).
 */
export function naiveLogits(model: GPT, ids: tf.Tensor2D): tf.Tensor3D {
  const { dModel: D, nHead: H, nLayer, vocabSize: V } = model.config;
  const [B, T] = ids.shape;
  const hd = D / H;
  const w = (name: string) => model.weights.get(name)! as tf.Tensor;
  const rms = (x: tf.Tensor, g: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), g);
  const linear = (x: tf.Tensor, weight: tf.Tensor) => tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D);
  const toHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]) as tf.Tensor3D;
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, V), "float32");
    const positions = tf.slice(w("wpe"), [0, 0], [T, D]);
    let x = tf.reshape(tf.add(tf.reshape(linear(oneHot, w("wte")), [B, T, D]), positions), [B * T, D]);
    const mask = tf.tensor2d(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]);
    for (let l = 0; l < nLayer; l++) {
      const qkv = linear(rms(x, w(`h.${l}.ln1.g`)), w(`h.${l}.attn.wqkv`));
      const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads);
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd)), mask);
      const heads = tf.matMul(tf.softmax(scores) as tf.Tensor3D, v);
      const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]);
      x = tf.add(x, linear(merged, w(`h.${l}.attn.wo`)));
      x = tf.add(x, linear(tf.relu(linear(rms(x, w(`h.${l}.ln2.g`)), w(`h.${l}.mlp.wfc`))), w(`h.${l}.mlp.wproj`)));
    }
    return tf.reshape(linear(rms(x, w("lnf.g")), w("head")), [B, T, V]) as tf.Tensor3D;
  });
}

export function naiveLoss(model: GPT, ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const V = model.config.vocabSize;
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(naiveLogits(model, ids), [-1, V]));
    const oneHot = tf.cast(tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, V), "float32");
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), -1))) as tf.Scalar;
  });
}

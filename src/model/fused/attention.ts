/**
 * The attention half of a transformer block, after the q | k | v projection, as one op:
 * `x + attention(qkv) @ wo`, where `qkv[B*T, 3D]` is the packed projection of B rows of T
 * positions (columns q | k | v, each H heads of hd columns). Each position attends causally to
 * its own row and, optionally, first to a shared prompt prefix: `prefix.qkv[G*P, 3D]`, the
 * packed projections of G prefixes of P (padded) positions; row b reads prefix rowGroup[b],
 * whose first lengths[g] positions are real. One softmax over both (see ../ops prefixAttention).
 *
 * With the native kernels the forward pass is one kernel launch and so is the backward pass:
 * native/kernels.c `attention` runs every product as a strided OpenBLAS call on the packed rows,
 * so nothing is split into heads, merged back, or copied per completion row (a prefix is read in
 * place by every row of its group, and its gradient summed there). It saves qkv, the prefix, wo
 * (by reference: ./saved) and one workspace tensor (the attention probabilities and the attention output before wo).
 * Otherwise the same formulas in tf ops: heads by slice / reshape / transpose, each row's copy of
 * its prefix by a 0/1 selection product, ../ops causalAttention or prefixAttention, then
 * dense(wo) and the residual add. test/model-native-kernels.test.ts checks values and gradients
 * of the native path against it.
 */
import * as tf from "@tensorflow/tfjs";
import { OP, nativeMatMulAvailable } from "../native-kernels";
import { defineNativeKernel } from "../native-heap";
import { causalAttention, dense, prefixAttention } from "../ops";
import { saveForBackward } from "./saved";

/** A shared prefix the rows attend to (see the file comment). */
export interface AttentionPrefix {
  /** `[G*P, 3D]`: the prefixes' packed q | k | v projections (only k and v are read). */
  qkv: tf.Tensor2D;
  /** `rowGroup[b]`: the prefix row b continues. */
  rowGroup: readonly number[];
  /** `lengths[g]`: real (unpadded) length of prefix g, at most P. */
  lengths: readonly number[];
}

interface Attrs {
  batch: number;
  heads: number;
  /** Padded prefix length, 0 without a prefix. */
  prefixLength: number;
  rowGroup: number[];
  lengths: number[];
}

/** Sizes shared by both kernels. */
function sizes(qkv: tf.TensorInfo, attrs: Attrs) {
  const [N, D3] = qkv.shape;
  const D = D3 / 3;
  const { batch: B, heads: H, prefixLength: P } = attrs;
  const T = N / B;
  return { N, D, B, H, T, P, hd: D / H, probs: H * B * T * (P + T) };
}

/** [x, qkv, wo, prefix qkv?] -> [y, workspace (probs[H, B*T, P+T], then a[B*T, D])]. */
const forward = defineNativeKernel<Attrs>("MurphyAttentionBlock", (heap, [x, qkv, wo, prefix], attrs) => {
  const { N, D, B, H, T, P, hd, probs } = sizes(qkv, attrs);
  const workspace = heap.alloc([probs + N * D]);
  const y = heap.alloc([N, D]);
  const [p, a] = [heap.at(workspace), heap.at(workspace) + probs];
  const prefixAt = prefix ? heap.at(prefix) : 0;
  heap.run(OP.attention, [heap.at(qkv), prefixAt, p, a, B, T, H, hd, P, 1 / Math.sqrt(hd), ...attrs.rowGroup, ...attrs.lengths]);
  heap.copy(heap.at(y), heap.at(x), N * D);
  heap.gemm({ a, lda: D, b: heap.at(wo), ldb: D, c: heap.at(y), ldc: D, M: N, N: D, K: D, beta: 1 });
  return [y, workspace];
});

/** [dy, qkv, wo, workspace, prefix qkv?] -> [dqkv, dwo, dprefix?]. */
const backward = defineNativeKernel<Attrs>("MurphyAttentionBlockGrad", (heap, [dy, qkv, wo, workspace, prefix], attrs) => {
  const { N, D, B, H, T, P, hd, probs } = sizes(qkv, attrs);
  const [dqkv, dwo, da] = [heap.alloc([N, 3 * D]), heap.alloc([D, D]), heap.alloc([N, D])];
  const dprefix = prefix ? heap.alloc(prefix.shape) : undefined;
  const [p, a] = [heap.at(workspace), heap.at(workspace) + probs];
  heap.gemm({ a: heap.at(dy), lda: D, b: heap.at(wo), ldb: D, transB: true, c: heap.at(da), ldc: D, M: N, N: D, K: D });
  heap.gemm({ a, lda: D, transA: true, b: heap.at(dy), ldb: D, c: heap.at(dwo), ldc: D, M: D, N: D, K: N });
  const G = attrs.lengths.length;
  const prefixAt = prefix ? [heap.at(prefix), heap.at(dprefix!)] : [0, 0];
  heap.run(OP.attentionGrad, [heap.at(qkv), prefixAt[0], p, heap.at(da), heap.at(dqkv), prefixAt[1], B, T, H, hd, P, G, 1 / Math.sqrt(hd), ...attrs.rowGroup, ...attrs.lengths]);
  heap.free(da);
  return dprefix ? [dqkv, dwo, dprefix] : [dqkv, dwo];
});

/** `[rows*T, D]` column block `part` of `qkv` as heads `[rows*H, T, hd]` (tf ops). */
function headsOf(qkv: tf.Tensor2D, part: number, rows: number, heads: number): tf.Tensor3D {
  const [N, D3] = qkv.shape;
  const D = D3 / 3;
  const [T, hd] = [N / rows, D / heads];
  const block = tf.slice(qkv, [0, part * D], [N, D]);
  return tf.reshape(tf.transpose(tf.reshape(block, [rows, T, heads, hd]), [0, 2, 1, 3]), [rows * heads, T, hd]) as tf.Tensor3D;
}

/** The tf-only form (see the file comment). */
function fallback(x: tf.Tensor2D, qkv: tf.Tensor2D, wo: tf.Tensor2D, B: number, H: number, prefix?: AttentionPrefix): tf.Tensor2D {
  return tf.tidy(() => {
    const [N, D] = x.shape;
    const T = N / B;
    const [q, k, v] = [0, 1, 2].map((part) => headsOf(qkv, part, B, H));
    let heads: tf.Tensor3D;
    if (!prefix) heads = causalAttention(q, k, v);
    else {
      const G = prefix.lengths.length;
      const P = prefix.qkv.shape[0] / G;
      const bias = new Float32Array(B * P);
      prefix.rowGroup.forEach((g, b) => bias.fill(-1e9, b * P + prefix.lengths[g], (b + 1) * P));
      // Each row's copy of its prefix's keys/values: a 0/1 selection [B, G] times the prefixes as
      // rows [G, H*P*hd]; the product's gradient sums the copies' gradients back into the prefix.
      const select = new Float32Array(B * G);
      prefix.rowGroup.forEach((g, b) => (select[b * G + g] = 1));
      const selection = tf.tensor2d(select, [B, G]);
      const perRow = (t: tf.Tensor3D) => tf.reshape(dense(selection, tf.reshape(t, [G, -1]) as tf.Tensor2D), [B * H, P, D / H]) as tf.Tensor3D;
      const [kp, vp] = [1, 2].map((part) => perRow(headsOf(prefix.qkv, part, G, H)));
      heads = prefixAttention(q, kp, vp, k, v, tf.tensor4d(bias, [B, 1, 1, P]));
    }
    const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, D / H]), [0, 2, 1, 3]), [N, D]) as tf.Tensor2D;
    return tf.add(x, dense(merged, wo)) as tf.Tensor2D;
  });
}

/**
 * `x + attention(qkv) @ wo` for `x[B*T, D]`, `qkv[B*T, 3D]`, `wo[D, D]`, H heads, optionally
 * attending to a prefix first; differentiable in x, qkv, wo and the prefix's qkv.
 */
export function attentionBlock(x: tf.Tensor2D, qkv: tf.Tensor2D, wo: tf.Tensor2D, batch: number, heads: number, prefix?: AttentionPrefix): tf.Tensor2D {
  const [N, D] = x.shape;
  if (qkv.shape[0] !== N || qkv.shape[1] !== 3 * D || N % batch !== 0 || D % heads !== 0) {
    throw new Error(`attentionBlock: x [${x.shape}], qkv [${qkv.shape}] are not ${batch} rows of ${heads} heads`);
  }
  if (prefix) {
    const G = prefix.lengths.length;
    const P = prefix.qkv.shape[0] / G;
    if (!Number.isInteger(P) || prefix.qkv.shape[1] !== 3 * D || prefix.rowGroup.length !== batch || prefix.rowGroup.some((g) => !Number.isInteger(g) || g < 0 || g >= G) || prefix.lengths.some((n) => !Number.isInteger(n) || n < 0 || n > P)) {
      throw new Error(`attentionBlock: prefix qkv [${prefix.qkv.shape}], rowGroup [${prefix.rowGroup}], lengths [${prefix.lengths}] do not describe ${G} prefixes for ${batch} rows`);
    }
  }
  if (!nativeMatMulAvailable()) return fallback(x, qkv, wo, batch, heads, prefix);
  const attrs: Attrs = {
    batch,
    heads,
    prefixLength: prefix ? prefix.qkv.shape[0] / prefix.lengths.length : 0,
    rowGroup: prefix ? [...prefix.rowGroup] : [],
    lengths: prefix ? [...prefix.lengths] : [],
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xs, qkvs, wos, prefixQkv] = args as tf.Tensor2D[];
    const [y, workspace] = forward(prefixQkv ? [xs, qkvs, wos, prefixQkv] : [xs, qkvs, wos], attrs)!;
    const restore = saveForBackward(save, prefixQkv ? [qkvs, wos, workspace, prefixQkv] : [qkvs, wos, workspace]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.clone(dy), ...backward([dy, ...restore(saved)], attrs)!],
    };
  });
  return (prefix ? op(x, qkv, wo, prefix.qkv) : op(x, qkv, wo)) as tf.Tensor2D;
}

/**
 * Fast building blocks for the policy model, each with a hand-written gradient (`tf.customGrad`).
 *
 * Why they exist: on the tfjs `wasm` backend a matMul with `transposeA`/`transposeB` is 10-15x
 * slower than an explicit `tf.transpose` followed by a plain matMul, and tf's own matMul gradient
 * uses exactly those transposed forms; `tf.gather` has no gradient at all there; and every small
 * op that autodiff records costs bookkeeping. So each block below computes its forward pass with
 * plain matMuls and its backward pass with explicit transposes, and saves what the backward pass
 * needs instead of re-deriving it op by op. The maths is unchanged, so every op is tested against
 * tf's own gradient of the straightforward formula on the cpu backend (test/model-ops.test.ts).
 *
 * Only standard tf ops are used, plus the custom kernels of ./native-kernels (OpenBLAS products
 * with transposes as flags, fused RMSNorm, the embedding gradient) and ./wasm-kernels when the
 * backend is wasm, so the same code runs on tfjs-node (`tensorflow`) and cpu. Each op takes the
 * native kernel when it exists (the `native...` calls return null otherwise) and else the
 * tf-only form next to it, which is what every other backend runs. The model's training path
 * runs whole blocks as fused ops where the native kernels exist (./fused/); the attention ops
 * here are their tf-only fallbacks.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeMatMul, nativeRmsNorm, nativeRmsNormGrad, nativeScatterRows } from "./native-kernels";
import { SLICED_MATMUL_MIN_ROWS, SLICED_MATMUL_MIN_WORK, gatherRows, installWasmKernels, slicedBatchMatMul } from "./wasm-kernels";

/** Additive causal mask value: large enough that exp() underflows to exactly 0 in float32. */
const MASKED = -1e9;

/** What tf.customGrad passes to the forward function: the inputs, then the save callback. */
type CustomArgs = (tf.Tensor | tf.GradSaveFunc)[];

/** `[rows, cols] -> [cols, rows]` as a real transpose (see the file comment for why). */
function t2(x: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(x, [1, 0]);
}

/** Swap the last two axes of a rank-3 tensor: `[G, M, N] -> [G, N, M]`. */
function t3(x: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(x, [0, 2, 1]);
}

/**
 * `ids[N]` (int32) -> `[N, depth]` float32 one-hot rows. Built as int32 then cast: the wasm
 * backend's OneHot kernel ignores a float32 dtype and writes int32 bit patterns (which read as
 * ~0 floats), so `tf.oneHot(ids, depth, 1, 0, "float32")` silently gives zeros there.
 */
export function oneHotFloat(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(ids, depth), "float32") as tf.Tensor2D);
}

/**
 * `x^T @ dy` for `x[N, D]`, `dy[N, E]` -> `[D, E]`: the weight gradient of `x @ w`.
 * A `[N, D]` transpose of a large activation costs about as much as the matMul itself on wasm,
 * so the narrower of x and dy is transposed: when E < D this computes `(dy^T @ x)^T`, whose
 * final transpose is only `[E, D]`.
 */
function weightGradient(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const native = nativeMatMul(x, dy, true, false);
  if (native) return native;
  return dy.shape[1] < x.shape[1] ? t2(tf.matMul(t2(dy), x)) : tf.matMul(t2(x), dy);
}

/** `a @ b^T` for `a[N, E]`, `b[D, E]` -> `[N, D]`: the input gradient of `x @ b`. */
function productTransposedB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return nativeMatMul(a, b, false, true) ?? tf.matMul(a, t2(b));
}

/**
 * Dense layer without bias: `x[N, D] @ w[D, E] -> [N, E]`.
 * Gradients: `dx = dy @ w^T` and `dw = x^T @ dy`, both as explicit transposes + plain matMuls.
 */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  installWasmKernels();
  const op = tf.customGrad((...args: CustomArgs) => {
    const [xs, ws, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([xs, ws]);
    return {
      value: nativeMatMul(xs, ws) ?? tf.matMul(xs, ws),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xSaved, wSaved] = saved as tf.Tensor2D[];
        const dy2 = dy as tf.Tensor2D;
        return [productTransposedB(dy2, wSaved), weightGradient(xSaved, dy2)];
      },
    };
  });
  return op(x, w) as tf.Tensor2D;
}

/**
 * Embedding lookup: `table[V, D]` rows picked by `ids[N]` (int32) -> `[N, D]`.
 * Forward copies the rows (gatherRows: wasm's own gather is slow). The gradient with respect to
 * the table sums each position's gradient into its token's row: one pass of the native kernels
 * where available, else `onehot(ids)^T @ dy` as a plain matMul, which works on wasm where
 * gather's own gradient does not. The ids get no gradient (they are integers), so they are not
 * an input of the custom op; a copy is saved for the backward pass, which may run after the
 * caller has disposed `ids`.
 */
export function embedding(ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D {
  if (ids.dtype !== "int32") throw new Error(`embedding: ids must be int32 (got ${ids.dtype})`);
  const vocab = table.shape[0];
  const op = tf.customGrad((...args: CustomArgs) => {
    const [tableIn, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([tf.clone(ids)]);
    return {
      value: gatherRows(tableIn, Array.from(ids.dataSync())),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // Native: each row of dy added into its token's row, one pass (./native-kernels).
        const scattered = nativeScatterRows(dy as tf.Tensor2D, saved[0] as tf.Tensor1D, vocab);
        if (scattered) return [scattered];
        const oneHot = oneHotFloat(saved[0] as tf.Tensor1D, vocab);
        return [weightGradient(oneHot, dy as tf.Tensor2D)];
      },
    };
  });
  return op(table) as tf.Tensor2D;
}

/**
 * RMSNorm without bias: `y = x * g / sqrt(mean(x^2) + eps)` over the last axis.
 * `x[N, D]`, `g[D]` -> `[N, D]`. With `r = 1/sqrt(mean(x^2)+eps)` and `u = dy * g`:
 * `dx = r*u - x * r^3 * mean(u*x)`, `dg = sum over rows of dy * x * r`.
 */
export function rmsNorm(x: tf.Tensor2D, g: tf.Tensor1D, eps = 1e-5): tf.Tensor2D {
  const op = tf.customGrad((...args: CustomArgs) => {
    const [xIn, gIn, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    // Native: one pass forward, one backward (./native-kernels); same formulas.
    const native = nativeRmsNorm(xIn, gIn, eps);
    if (native) {
      save([xIn, gIn, native.r]);
      return {
        value: native.y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, gs, rs] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
          const { dx, dg } = nativeRmsNormGrad(xs, gs, rs, dy as tf.Tensor2D)!;
          return [dx, dg];
        },
      };
    }
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(xIn), -1, true), eps)); // [N, 1]
    const normed = tf.mul(xIn, r);
    save([xIn, gIn, r, normed]);
    return {
      value: tf.mul(normed, gIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs, rs, ns] = saved;
        const u = tf.mul(dy, gs);
        const inner = tf.mean(tf.mul(u, xs), -1, true); // [N, 1]
        const dx = tf.sub(tf.mul(u, rs), tf.mul(xs, tf.mul(tf.pow(rs, 3), inner)));
        const dg = tf.sum(tf.mul(dy, ns), 0);
        return [dx, dg];
      },
    };
  });
  return op(x, g) as tf.Tensor2D;
}

/**
 * `alpha * op(a) @ op(b)` for `[G, M, K] @ [G, K, N]` slices (op = swap of the last two axes
 * when the flag is set), without gradient, on the fastest path for the backend and size:
 * OpenBLAS with transpose flags (./native-kernels), else explicit transposes and the per-slice
 * XNNPACK kernel (./wasm-kernels) or tf.matMul.
 */
function rawBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D, transA = false, transB = false, alpha = 1): tf.Tensor3D {
  const native = nativeMatMul(a, b, transA, transB, alpha);
  if (native) return native;
  return tf.tidy(() => {
    const [left, right] = [transA ? t3(a) : a, transB ? t3(b) : b];
    const [G, M, K] = left.shape;
    const N = right.shape[2];
    if (right.shape[0] !== G || right.shape[1] !== K) throw new Error(`batchMatMul: shapes [${left.shape}] and [${right.shape}] do not match`);
    const sliced = G > 1 && M >= SLICED_MATMUL_MIN_ROWS && M * K * N >= SLICED_MATMUL_MIN_WORK ? slicedBatchMatMul(left, right) : null;
    const product = sliced ?? tf.matMul(left, right);
    return (alpha === 1 ? product : tf.mul(product, alpha)) as tf.Tensor3D;
  });
}

/**
 * Batched matMul `a[G, M, K] @ b[G, K, N] -> [G, M, N]` with a gradient (`da = dy @ b^T`,
 * `db = a^T @ dy`, explicit transposes). On wasm, slices with enough work go through the
 * per-slice XNNPACK kernel of ./wasm-kernels; elsewhere this is tf.matMul.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const op = tf.customGrad((...args: CustomArgs) => {
    const [as, bs, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    save([as, bs]);
    return {
      value: rawBatchMatMul(as, bs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [aSaved, bSaved] = saved as tf.Tensor3D[];
        return [rawBatchMatMul(dy as tf.Tensor3D, bSaved, false, true), rawBatchMatMul(aSaved, dy as tf.Tensor3D, true, false)];
      },
    };
  });
  return op(a, b) as tf.Tensor3D;
}

/** An additive `[T, T]` causal mask: 0 on and below the diagonal, -1e9 above. */
export function causalMask(length: number): tf.Tensor2D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) values.fill(MASKED, i * length + i + 1, (i + 1) * length);
  return tf.tensor2d(values, [length, length]);
}

/**
 * Causal scaled dot-product attention over `G` independent (batch x head) slices:
 * `q, k, v [G, T, hd] -> [G, T, hd]`, with `softmax(q k^T / sqrt(hd) + causal mask) v`.
 * The tf-only form of attention (./fused/attention runs it natively on the packed projections).
 *
 * Backward, with `P` the attention probabilities saved from the forward pass and `dO` the
 * output gradient: `dV = P^T dO`, `dP = dO V^T`, `dS = P * (dP - rowsum(dP * P)) / sqrt(hd)`,
 * `dQ = dS K`, `dK = dS^T Q`. Every product is a plain batched matMul, and the two that need a
 * transposed `[T, T]` matrix are computed as `dV = (dO^T P)^T` and `dK = (Q^T dS)^T`, so only
 * `[T, hd]` slices are ever transposed.
 */
export function causalAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const [, length, headDim] = q.shape;
  const scale = 1 / Math.sqrt(headDim);
  const op = tf.customGrad((...args: CustomArgs) => {
    const [qs, ks, vs, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const scaled = rawBatchMatMul(qs, ks, false, true, scale);
    const probs = tf.softmax(tf.add(scaled, causalMask(length))) as tf.Tensor3D;
    save([qs, ks, vs, probs]);
    return {
      value: rawBatchMatMul(probs, vs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qSaved, kSaved, vSaved, p] = saved as tf.Tensor3D[];
        const dOut = dy as tf.Tensor3D;
        const dV = t3(rawBatchMatMul(dOut, p, true, false));
        const dP = rawBatchMatMul(dOut, vSaved, false, true);
        const dS = tf.mul(tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))), scale) as tf.Tensor3D;
        const dQ = rawBatchMatMul(dS, kSaved);
        const dK = t3(rawBatchMatMul(qSaved, dS, true, false));
        return [dQ, dK, dV];
      },
    };
  });
  return op(q, k, v) as tf.Tensor3D;
}

/**
 * Attention of completion rows over a shared prompt prefix and over themselves, with a gradient:
 * `softmax([q kp^T, q k^T] / sqrt(hd) + [prefixBias, causal]) [vp; v]`, computed without ever
 * concatenating the two key sets (on wasm a concat's gradient is two whole-input Slice copies).
 * The tf-only form (./fused/attention runs it natively, reading each prefix in place).
 * - `q, k, v: [B*H, S, hd]`: the rows' own queries, keys and values (S completion positions);
 * - `kp, vp: [B*H, P, hd]`: each row's copy of its prefix's keys and values;
 * - `prefixBias: [B, 1, 1, P]`: 0 where a prefix slot is real, -1e9 where it is padding.
 * The two score blocks share one softmax: with m the row max over both, `pP = exp(sP - m) / z`,
 * `pS = exp(sS - m) / z`, `z` the sum over both. The backward pass is causalAttention's, per block:
 * `dS_x = p_x * (dp_x - rowsum(dpP * pP) - rowsum(dpS * pS)) / sqrt(hd)`.
 */
export function prefixAttention(q: tf.Tensor3D, kp: tf.Tensor3D, vp: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, prefixBias: tf.Tensor4D): tf.Tensor3D {
  const [G, S, headDim] = q.shape;
  const [B, , , P] = prefixBias.shape;
  const H = G / B;
  if (!Number.isInteger(H) || kp.shape[0] !== G || kp.shape[1] !== P || k.shape[1] !== S) {
    throw new Error(`prefixAttention: shapes q [${q.shape}], kp [${kp.shape}], k [${k.shape}], prefixBias [${prefixBias.shape}] do not match`);
  }
  const scale = 1 / Math.sqrt(headDim);
  const op = tf.customGrad((...args: CustomArgs) => {
    const [qs, kps, vps, ks, vs, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
    const scoresPrefix = tf.reshape(
      tf.add(tf.reshape(rawBatchMatMul(qs, kps, false, true, scale), [B, H, S, P]), prefixBias),
      [G, S, P],
    );
    const scoresSelf = tf.add(rawBatchMatMul(qs, ks, false, true, scale), causalMask(S));
    const rowMax = tf.maximum(tf.max(scoresPrefix, -1, true), tf.max(scoresSelf, -1, true));
    const expPrefix = tf.exp(tf.sub(scoresPrefix, rowMax));
    const expSelf = tf.exp(tf.sub(scoresSelf, rowMax));
    const total = tf.add(tf.sum(expPrefix, -1, true), tf.sum(expSelf, -1, true));
    const pPrefix = tf.div(expPrefix, total) as tf.Tensor3D;
    const pSelf = tf.div(expSelf, total) as tf.Tensor3D;
    save([qs, kps, vps, ks, vs, pPrefix, pSelf]);
    return {
      value: tf.add(rawBatchMatMul(pPrefix, vps), rawBatchMatMul(pSelf, vs)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [qSaved, kpSaved, vpSaved, kSaved, vSaved, pp, psf] = saved as tf.Tensor3D[];
        const dOut = dy as tf.Tensor3D;
        const dpPrefix = rawBatchMatMul(dOut, vpSaved, false, true);
        const dpSelf = rawBatchMatMul(dOut, vSaved, false, true);
        const rowDot = tf.add(tf.sum(tf.mul(dpPrefix, pp), -1, true), tf.sum(tf.mul(dpSelf, psf), -1, true));
        const dsPrefix = tf.mul(tf.mul(pp, tf.sub(dpPrefix, rowDot)), scale) as tf.Tensor3D;
        const dsSelf = tf.mul(tf.mul(psf, tf.sub(dpSelf, rowDot)), scale) as tf.Tensor3D;
        const dQ = tf.add(rawBatchMatMul(dsPrefix, kpSaved), rawBatchMatMul(dsSelf, kSaved));
        // Only [S, hd]-sized slices are transposed (see causalAttention).
        const dKp = t3(rawBatchMatMul(qSaved, dsPrefix, true, false));
        const dVp = t3(rawBatchMatMul(dOut, pp, true, false));
        const dK = t3(rawBatchMatMul(qSaved, dsSelf, true, false));
        const dV = t3(rawBatchMatMul(dOut, psf, true, false));
        return [dQ, dKp, dVp, dK, dV];
      },
    };
  });
  return op(q, kp, vp, k, v) as tf.Tensor3D;
}

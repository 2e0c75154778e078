/**
 * `rmsNorm(x, g) @ w` as one op: the start of attention (the q | k | v projection) and the output
 * head. With the native kernels the forward pass is one kernel launch (the RMSNorm pass, then
 * one OpenBLAS product) and so is the backward pass; it saves x and one workspace tensor holding
 * the normed rows h and the row scales r (weights by reference: ./saved). Otherwise it is `dense(rmsNorm(x, g), w)` of ../ops,
 * the same formulas (test/model-native-kernels.test.ts checks values and gradients against it).
 *
 * Backward, with h = rmsNorm(x, g): dh = dy w^T, dw = h^T dy, then RMSNorm's backward (../ops
 * rmsNorm) gives dx and dg from dh.
 */
import * as tf from "@tensorflow/tfjs";
import { OP, nativeMatMulAvailable } from "../native-kernels";
import { defineNativeKernel } from "../native-heap";
import { dense, rmsNorm } from "../ops";
import { saveForBackward } from "./saved";

interface Attrs {
  eps: number;
}

/** [x, g, w] -> [y, workspace (h[N, D] then r[N])]. */
const forward = defineNativeKernel<Attrs>("MurphyNormDense", (heap, [x, g, w], { eps }) => {
  const [N, D] = x.shape;
  const E = w.shape[1];
  const workspace = heap.alloc([N * D + N]);
  const y = heap.alloc([N, E]);
  const h = heap.at(workspace);
  heap.run(OP.rmsNorm, [heap.at(x), heap.at(g), N, D, eps, h, h + N * D]);
  heap.gemm({ a: h, lda: D, b: heap.at(w), ldb: E, c: heap.at(y), ldc: E, M: N, N: E, K: D });
  return [y, workspace];
});

/** [dy, x, g, w, workspace] -> [dx, dg, dw]. */
const backward = defineNativeKernel<Record<string, never>>("MurphyNormDenseGrad", (heap, [dy, x, g, w, workspace]) => {
  const [N, D] = x.shape;
  const E = w.shape[1];
  const [dx, dg, dw, dh] = [heap.alloc([N, D]), heap.alloc([D]), heap.alloc([D, E]), heap.alloc([N, D])];
  const h = heap.at(workspace);
  heap.gemm({ a: heap.at(dy), lda: E, b: heap.at(w), ldb: E, transB: true, c: heap.at(dh), ldc: D, M: N, N: D, K: E });
  heap.gemm({ a: h, lda: D, transA: true, b: heap.at(dy), ldb: E, c: heap.at(dw), ldc: E, M: D, N: E, K: N });
  heap.run(OP.rmsNormGrad, [heap.at(x), heap.at(g), h + N * D, heap.at(dh), N, D, heap.at(dx), heap.at(dg), 0]);
  heap.free(dh);
  return [dx, dg, dw];
});

/** `rmsNorm(x[N, D], g[D]) @ w[D, E]` -> `[N, E]`, differentiable in x, g and w. */
export function normDense(x: tf.Tensor2D, g: tf.Tensor1D, w: tf.Tensor2D, eps = 1e-5): tf.Tensor2D {
  if (!nativeMatMulAvailable()) return dense(rmsNorm(x, g, eps), w);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, gs, ws, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.GradSaveFunc];
    const out = forward([xs, gs, ws], { eps })!;
    const restore = saveForBackward(save, [xs, gs, ws, out[1]]);
    return {
      value: out[0] as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward([dy, ...restore(saved)], {})!,
    };
  });
  return op(x, g, w) as tf.Tensor2D;
}

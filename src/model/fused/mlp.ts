/**
 * The MLP half of a transformer block as one op: `x + relu(rmsNorm(x, g) @ wfc) @ wproj`.
 * With the native kernels the forward pass is one kernel launch (RMSNorm, a product, ReLU in
 * place, the residual copied into the output and the second product added onto it) and so is
 * the backward pass; it saves x and one workspace tensor (the normed rows h, the row scales r and
 * the ReLU outputs; weights by reference: ./saved). Otherwise it is the same formulas in tf ops (../ops rmsNorm and dense,
 * tf.relu, tf.add); test/model-native-kernels.test.ts checks values and gradients against it.
 *
 * Backward, with a = relu(h wfc): da = dy wproj^T, dwproj = a^T dy, dz = da * (a > 0),
 * dwfc = h^T dz, dh = dz wfc^T, and dx = dy + RMSNorm's backward of dh (which also gives dg).
 */
import * as tf from "@tensorflow/tfjs";
import { OP, nativeMatMulAvailable } from "../native-kernels";
import { defineNativeKernel } from "../native-heap";
import { dense, rmsNorm } from "../ops";
import { saveForBackward } from "./saved";

interface Attrs {
  eps: number;
}

/** Where each part of the workspace starts, in floats from its beginning. */
function layout(N: number, D: number) {
  return { h: 0, r: N * D, a: N * D + N };
}

/** [x, g, wfc, wproj] -> [y, workspace (h[N, D], r[N], a[N, F])]. */
const forward = defineNativeKernel<Attrs>("MurphyMlpBlock", (heap, [x, g, wfc, wproj], { eps }) => {
  const [N, D] = x.shape;
  const F = wfc.shape[1];
  const workspace = heap.alloc([N * D + N + N * F]);
  const y = heap.alloc([N, D]);
  const base = heap.at(workspace);
  const at = layout(N, D);
  const [h, a] = [base + at.h, base + at.a];
  heap.run(OP.rmsNorm, [heap.at(x), heap.at(g), N, D, eps, h, base + at.r]);
  heap.gemm({ a: h, lda: D, b: heap.at(wfc), ldb: F, c: a, ldc: F, M: N, N: F, K: D });
  heap.run(OP.relu, [a, N * F]);
  heap.copy(heap.at(y), heap.at(x), N * D);
  heap.gemm({ a, lda: F, b: heap.at(wproj), ldb: D, c: heap.at(y), ldc: D, M: N, N: D, K: F, beta: 1 });
  return [y, workspace];
});

/** [dy, x, g, wfc, wproj, workspace] -> [dx, dg, dwfc, dwproj]. */
const backward = defineNativeKernel<Record<string, never>>("MurphyMlpBlockGrad", (heap, [dy, x, g, wfc, wproj, workspace]) => {
  const [N, D] = x.shape;
  const F = wfc.shape[1];
  const [dx, dg, dwfc, dwproj] = [heap.alloc([N, D]), heap.alloc([D]), heap.alloc([D, F]), heap.alloc([F, D])];
  const [da, dh] = [heap.alloc([N, F]), heap.alloc([N, D])];
  const base = heap.at(workspace);
  const at = layout(N, D);
  const [h, a] = [base + at.h, base + at.a];
  const dyAt = heap.at(dy);
  heap.gemm({ a: dyAt, lda: D, b: heap.at(wproj), ldb: D, transB: true, c: heap.at(da), ldc: F, M: N, N: F, K: D });
  heap.gemm({ a, lda: F, transA: true, b: dyAt, ldb: D, c: heap.at(dwproj), ldc: D, M: F, N: D, K: N });
  heap.run(OP.reluGrad, [a, heap.at(da), N * F]);
  heap.gemm({ a: h, lda: D, transA: true, b: heap.at(da), ldb: F, c: heap.at(dwfc), ldc: F, M: D, N: F, K: N });
  heap.gemm({ a: heap.at(da), lda: F, b: heap.at(wfc), ldb: F, transB: true, c: heap.at(dh), ldc: D, M: N, N: D, K: F });
  // The residual's gradient first, then RMSNorm's backward added onto it.
  heap.copy(heap.at(dx), dyAt, N * D);
  heap.run(OP.rmsNormGrad, [heap.at(x), heap.at(g), base + at.r, heap.at(dh), N, D, heap.at(dx), heap.at(dg), 1]);
  heap.free(da, dh);
  return [dx, dg, dwfc, dwproj];
});

/** `x + relu(rmsNorm(x, g) @ wfc) @ wproj` for `x[N, D]`, `g[D]`, `wfc[D, F]`, `wproj[F, D]`. */
export function mlpBlock(x: tf.Tensor2D, g: tf.Tensor1D, wfc: tf.Tensor2D, wproj: tf.Tensor2D, eps = 1e-5): tf.Tensor2D {
  if (!nativeMatMulAvailable()) {
    return tf.tidy(() => tf.add(x, dense(tf.relu(dense(rmsNorm(x, g, eps), wfc)), wproj)) as tf.Tensor2D);
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, gs, wfcs, wprojs, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const [y, workspace] = forward([xs, gs, wfcs, wprojs], { eps })!;
    const restore = saveForBackward(save, [xs, gs, wfcs, wprojs, workspace]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => backward([dy, ...restore(saved)], {})!,
    };
  });
  return op(x, g, wfc, wproj) as tf.Tensor2D;
}

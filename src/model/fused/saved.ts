/**
 * What a fused op keeps for its backward pass. tf.customGrad's `save` keeps each tensor through
 * an Identity kernel launch (a launch costs bookkeeping, not a copy: see ../wasm-kernels). The
 * model's weights are tf.Variables that live across the whole training step, so they are kept
 * by reference instead: 2-3 per fused block, about 90 launches fewer per step at the kit's
 * shape. Should a variable be assigned between the forward and the backward pass (tf's
 * gradients never do), the backward pass throws instead of using the new values.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Save `tensors` (variables by reference, the rest through `save`); returns the function that
 * gives them back, in the same order, from the backward pass's `saved` list.
 */
export function saveForBackward(save: tf.GradSaveFunc, tensors: tf.Tensor[]): (saved: tf.Tensor[]) => tf.Tensor[] {
  const kept = tensors.map((t) => (t instanceof tf.Variable ? t.dataId : null));
  save(tensors.filter((_, i) => kept[i] === null));
  return (saved) => {
    let next = 0;
    return tensors.map((t, i) => {
      if (kept[i] === null) return saved[next++];
      if (t.isDisposed || t.dataId !== kept[i]) throw new Error(`fused op: weight "${(t as tf.Variable).name}" changed between the forward and the backward pass`);
      return t;
    });
  };
}

/**
 * Custom kernels for the tfjs `wasm` backend, where its own kernels are the bottleneck of
 * the policy model. Both are registered lazily, only on wasm, only after checking that the
 * backend exposes the (tfjs-backend-wasm 4.22) internals they use; on any other backend, or if
 * the check fails, callers get `null` / tf's own op and nothing changes but speed.
 *
 * 1. `slicedBatchMatMul(a[G, M, K], b[G, K, N])`. tfjs-wasm sends a matMul to XNNPACK
 *    (12-20 GFLOP/s here) only when the batch is 1 and nothing is transposed; a batched matMul
 *    falls to a scalar loop (~1 GFLOP/s), which made attention take >90% of a training step at
 *    T = 512. Slicing with tf.slice is no cure: the wasm Slice kernel copies its whole input
 *    first, so G slices cost G full copies. This kernel registers each slice of a, b and the
 *    output as a temporary tensor id that points into its parent's buffer (no copy), runs the
 *    backend's own BatchMatMul (batch 1, so XNNPACK) on it, and unregisters the ids (which also
 *    frees the XNNPACK operator cached for them) without freeing any memory.
 * 2. `gatherRows(x, rows)`: rows of a tensor along axis 0, as one contiguous copy per row. The
 *    wasm GatherV2 kernel moves ~20M floats/s, so reordering a sampling cache took seconds.
 * 3. Identity without a copy. tfjs's autodiff saves every tensor a gradient needs through the
 *    Identity kernel; wasm's copies the data (about a thousand copies per training step at the
 *    kit's shape, ~6% of it), while tensors are immutable, so the cpu backend just shares the
 *    buffer and counts one more reference. This does the same (as wasm's own Reshape does).
 *    Installed by `installWasmKernels()`, which the model's ops call.
 */
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-backend-wasm's backend object these kernels use. */
interface WasmBackendInternals {
  wasm: {
    cwrap(name: string, returnType: null, argTypes: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: unknown): { id: number; memoryOffset: number } | undefined };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  incRef(dataId: unknown): void;
}

const SLICED_MATMUL = "MurphySlicedBatchMatMul";
const GATHER_ROWS = "MurphyGatherRows";

/**
 * Use the sliced kernel when each slice has at least this many rows and multiply-adds. Below
 * that, creating one XNNPACK operator per slice costs more than the scalar loop. Measured on
 * the 2-core machine: at T = 64 (head size 16/32) the sliced kernel is already 2-4x faster;
 * for single-row slices (decoding one token) the scalar loop wins.
 */
export const SLICED_MATMUL_MIN_ROWS = 8;
export const SLICED_MATMUL_MIN_WORK = 1 << 14;

let state: "unregistered" | "ready" | "unavailable" = "unregistered";
const batchMatMulFns = new WeakMap<object, (...args: unknown[]) => void>();

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function slicedBatchMatMulKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown): tf.TensorInfo {
  const backend = backendIn as WasmBackendInternals;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [G, M, K] = a.shape;
  const N = b.shape[2];
  let run = batchMatMulFns.get(backend.wasm);
  if (!run) {
    // The exported C function behind tfjs's own BatchMatMul kernel.
    run = backend.wasm.cwrap("BatchMatMul", null, ["number", "array", "number", "number", "array", "number", "number", "number", "number"]);
    batchMatMulFns.set(backend.wasm, run);
  }
  const out = backend.makeOutput([G, M, N], "float32");
  const offsetOf = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const [aBase, bBase, outBase] = [offsetOf(a), offsetOf(b), offsetOf(out)];
  const aShape = shapeBytes([1, M, K]);
  const bShape = shapeBytes([1, K, N]);
  for (let g = 0; g < G; g++) {
    const aId = backend.dataIdNextNumber++;
    const bId = backend.dataIdNextNumber++;
    const outId = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(aId, M * K, aBase + 4 * g * M * K);
    backend.wasm.tfjs.registerTensor(bId, K * N, bBase + 4 * g * K * N);
    backend.wasm.tfjs.registerTensor(outId, M * N, outBase + 4 * g * M * N);
    try {
      run(aId, aShape, 3, bId, bShape, 3, false, false, outId);
    } finally {
      for (const id of [aId, bId, outId]) backend.wasm.tfjs.disposeData(id);
    }
  }
  return out;
}

function gatherRowsKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown, attrs: { rows: number[] }): tf.TensorInfo {
  const backend = backendIn as WasmBackendInternals;
  const x = inputs.x as tf.TensorInfo;
  const rowSize = x.shape.slice(1).reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([attrs.rows.length, ...x.shape.slice(1)], "float32");
  // Views taken after makeOutput: an allocation may grow (and so replace) the wasm heap.
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  attrs.rows.forEach((row, i) => to.set(from.subarray(row * rowSize, (row + 1) * rowSize), i * rowSize));
  return out;
}

/** Register both kernels once, if the current backend is wasm and looks as expected. */
function kernelsReady(): boolean {
  if (tf.getBackend() !== "wasm") return false;
  if (state !== "unregistered") return state === "ready";
  const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
  const looksRight =
    typeof backend.wasm?.cwrap === "function" &&
    typeof backend.wasm?.tfjs?.registerTensor === "function" &&
    typeof backend.wasm?.tfjs?.disposeData === "function" &&
    typeof backend.dataIdMap?.get === "function" &&
    typeof backend.dataIdNextNumber === "number" &&
    typeof backend.makeOutput === "function" &&
    typeof backend.typedArrayFromHeap === "function" &&
    typeof backend.incRef === "function";
  if (!looksRight) {
    state = "unavailable";
    return false;
  }
  tf.registerKernel({ kernelName: SLICED_MATMUL, backendName: "wasm", kernelFunc: ({ inputs, backend: b }) => slicedBatchMatMulKernel(inputs, b) });
  tf.registerKernel({
    kernelName: GATHER_ROWS,
    backendName: "wasm",
    kernelFunc: ({ inputs, backend: b, attrs }) => gatherRowsKernel(inputs, b, attrs as unknown as { rows: number[] }),
  });
  const copyingIdentity = tf.getKernel("Identity", "wasm");
  if (copyingIdentity) {
    tf.unregisterKernel("Identity", "wasm");
    tf.registerKernel({
      kernelName: "Identity",
      backendName: "wasm",
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        if (x.dtype === "string") return copyingIdentity.kernelFunc(args);
        (args.backend as unknown as WasmBackendInternals).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
    });
  }
  state = "ready";
  return true;
}

/** Register this file's kernels now if the backend is wasm (cheap after the first call). */
export function installWasmKernels(): void {
  kernelsReady();
}

/**
 * `a[G, M, K] @ b[G, K, N] -> [G, M, N]` slice by slice through XNNPACK, or null when the
 * kernel cannot be used here (not wasm, not float32); no gradient (see ops.batchMatMul).
 */
export function slicedBatchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D | null {
  if (a.dtype !== "float32" || b.dtype !== "float32" || !kernelsReady()) return null;
  return tf.engine().runKernel(SLICED_MATMUL, { a, b }, {}) as tf.Tensor3D;
}

/** Rows of `x` along axis 0 (`rows[i]` becomes row i; repeats allowed). No gradient. */
export function gatherRows<T extends tf.Tensor>(x: T, rows: number[]): T {
  const count = x.shape[0];
  for (const row of rows) {
    if (!Number.isInteger(row) || row < 0 || row >= count) throw new Error(`gatherRows: row ${row} is outside [0, ${count})`);
  }
  if (x.dtype === "float32" && kernelsReady()) {
    return tf.engine().runKernel(GATHER_ROWS, { x }, { rows } as unknown as tf.NamedAttrMap) as T;
  }
  return tf.tidy(() => tf.gather(x, tf.tensor1d(rows, "int32"))) as T;
}

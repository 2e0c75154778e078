/**
 * Matrix products of the policy model through the system's OpenBLAS, for the tfjs `wasm`
 * backend. tfjs-backend-wasm keeps every tensor in one WebAssembly.Memory; a small native Node
 * module (native/kernels.c, built by scripts/build-native.sh into build/native/) computes
 * `op(A) @ op(B)` in place on that memory with OpenBLAS's cblas_sgemm: AVX2/FMA on x86 instead of
 * XNNPACK's 128-bit wasm SIMD, and transposed operands as flags instead of transpose kernels.
 * Next to the products: fused row-wise kernels (log-softmax with picked token and entropy,
 * RMSNorm, the embedding gradient) and the split of projected rows into attention heads and
 * back (for the sampling cache), each one pass over its tensors instead of a chain of tfjs
 * kernels. Whole transformer blocks, attention included, and the optimizer step chain several
 * of these steps inside one kernel launch (./native-heap, ./fused/).
 *
 * Everything here is optional: on any other backend, without the built module, without
 * OpenBLAS, or with MURPHY_NATIVE=0, every `native...` function returns null and the caller
 * uses tf's own ops (./ops and ./gpt keep those paths), so the GPU (tfjs-node-gpu) and cpu
 * backends are untouched.
 *
 * Threads: OpenBLAS runs on one thread unless MURPHY_BLAS_THREADS says otherwise (experiments
 * already run one process per core).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

export interface NativeModule {
  info(): { available: boolean; error?: string; core?: string; config?: string; threads?: number };
  setThreads(n: number): void;
  gemm(heap: ArrayBuffer, params: Float64Array): void;
  run(heap: ArrayBuffer, params: Float64Array): void;
}

/** The parts of tfjs-backend-wasm's backend object used here (tfjs-backend-wasm 4.22). */
export interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32" | "int32"): tf.TensorInfo;
  disposeData(dataId: unknown, force?: boolean): boolean;
}

/** Where scripts/build-native.sh puts the module (the project root's build/ folder). */
export const NATIVE_MODULE_PATH = path.join(__dirname, "..", "..", "build", "native", "murphy_kernels.node");

const GEMM = "MurphyNativeGemm";
const FUSED = "MurphyNativeFused";
const SPLIT_HEADS = "MurphyNativeSplitHeads";
const MERGE_HEADS = "MurphyNativeMergeHeads";

/** Attributes of the head split / merge kernels: rows B*T, H heads, C column blocks (parts). */
interface HeadsAttrs {
  batch: number;
  time: number;
  heads: number;
  parts: number;
}

/** Op numbers of native/kernels.c `run`. */
export const OP = {
  logprobs: 1,
  logprobsGrad: 2,
  rmsNorm: 3,
  rmsNormGrad: 4,
  adam: 5,
  splitHeads: 6,
  mergeHeads: 7,
  sumSquares: 8,
  scatterRows: 9,
  attention: 10,
  attentionGrad: 11,
  relu: 12,
  reluGrad: 13,
} as const;

/** A fused kernel's parameter: a number, or the heap offset (+ plus floats) of input i / output i. */
type Param = number | { input: number; plus?: number } | { output: number; plus?: number };

interface FusedAttrs {
  op: number;
  params: Param[];
  outputs: { shape: number[]; dtype: "float32" }[];
}

let loaded: { module: NativeModule | null; why: string } | undefined;
let registered = false;
let enabled = true;
const params = new Float64Array(17);

function load(): { module: NativeModule | null; why: string } {
  if (loaded) return loaded;
  if (process.env.MURPHY_NATIVE === "0") return (loaded = { module: null, why: "MURPHY_NATIVE=0" });
  if (!fs.existsSync(NATIVE_MODULE_PATH)) return (loaded = { module: null, why: `${path.relative(process.cwd(), NATIVE_MODULE_PATH)} not built (bash scripts/build-native.sh)` });
  try {
    const module = require(NATIVE_MODULE_PATH) as NativeModule;
    const info = module.info();
    if (!info.available) return (loaded = { module: null, why: info.error ?? "OpenBLAS unavailable" });
    const threads = Number(process.env.MURPHY_BLAS_THREADS ?? "1");
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`MURPHY_BLAS_THREADS must be a positive integer (got ${process.env.MURPHY_BLAS_THREADS})`);
    module.setThreads(threads);
    return (loaded = { module, why: "" });
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("MURPHY_BLAS_THREADS")) throw e;
    return (loaded = { module: null, why: `loading ${NATIVE_MODULE_PATH} failed: ${e instanceof Error ? e.message : e}` });
  }
}

/** What the native path would use, for logs and benchmarks: OpenBLAS's core type and threads, or why not. */
export function nativeKernelsInfo(): { available: boolean; why?: string; core?: string; config?: string; threads?: number } {
  const { module, why } = load();
  if (!module) return { available: false, why };
  const { core, config, threads } = module.info();
  return { available: true, core, config, threads };
}

/** Set OpenBLAS's thread count for this process (no effect without the native module). */
export function setNativeThreads(threads: number): void {
  load().module?.setThreads(threads);
}

/** A GEMM kernel's attributes. */
interface GemmAttrs {
  transA: boolean;
  transB: boolean;
  alpha: number;
}

/** `alpha * op(a) @ op(b)` into a new output (rank 2, or rank 3: one product per slice). */
function gemmKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown, { transA, transB, alpha }: GemmAttrs): tf.TensorInfo {
  const backend = backendIn as WasmBackendInternals;
  const module = load().module!;
  const [a, b] = [inputs.a as tf.TensorInfo, inputs.b as tf.TensorInfo];
  const batched = a.shape.length === 3;
  const [G, aRows, aCols] = batched ? a.shape : [1, ...a.shape];
  const [, bRows, bCols] = batched ? b.shape : [1, ...b.shape];
  const [M, K, N] = [transA ? aCols : aRows, transA ? aRows : aCols, transB ? bRows : bCols];
  const out = backend.makeOutput(batched ? [G, M, N] : [M, N], "float32");
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  params.set([transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, offset(a), aCols, aRows * aCols, offset(b), bCols, bRows * bCols, 0, offset(out), N, M * N, G]);
  // Read the heap after makeOutput: an allocation may grow (and so replace) the wasm memory.
  module.gemm(backend.wasm.HEAPU8.buffer as ArrayBuffer, params);
  return out;
}

/**
 * Turn the native path off (or back on) for this process, e.g. to compare it with tf's own
 * wasm kernels in one run; MURPHY_NATIVE=0 does the same from the environment.
 */
export function setNativeKernelsEnabled(on: boolean): void {
  enabled = on;
}

function fusedKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown, attrs: FusedAttrs): tf.TensorInfo[] {
  const backend = backendIn as WasmBackendInternals;
  const module = load().module!;
  const outs = attrs.outputs.map((o) => backend.makeOutput(o.shape, o.dtype));
  const ins = Object.keys(inputs)
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
    .map((k) => inputs[k] as tf.TensorInfo);
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  const values = attrs.params.map((p) => (typeof p === "number" ? p : ("input" in p ? offset(ins[p.input]) : offset(outs[p.output])) + (p.plus ?? 0)));
  module.run(backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from([attrs.op, ...values]));
  return outs;
}

/** `x[B*T, C*D]` -> C outputs `[B*H, T, hd]` (split), or back (merge); see native/kernels.c heads_copy. */
function headsKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown, attrs: HeadsAttrs, split: boolean): tf.TensorInfo | tf.TensorInfo[] {
  const backend = backendIn as WasmBackendInternals;
  const module = load().module!;
  const { batch: B, time: T, heads: H, parts: C } = attrs;
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  if (split) {
    const x = inputs.x as tf.TensorInfo;
    const hd = x.shape[1] / (C * H);
    const outs = Array.from({ length: C }, () => backend.makeOutput([B * H, T, hd], "float32"));
    module.run(backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from([OP.splitHeads, offset(x), B, T, H, hd, C, ...outs.map(offset)]));
    return outs;
  }
  const parts = Array.from({ length: C }, (_, c) => inputs[`h${c}`] as tf.TensorInfo);
  const hd = parts[0].shape[2];
  const out = backend.makeOutput([B * T, C * H * hd], "float32");
  module.run(backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from([OP.mergeHeads, offset(out), B, T, H, hd, C, ...parts.map(offset)]));
  return out;
}

function runSplitHeads(x: tf.Tensor, attrs: HeadsAttrs): tf.Tensor3D[] {
  const out = tf.engine().runKernel(SPLIT_HEADS, { x }, attrs as unknown as tf.NamedAttrMap);
  return (Array.isArray(out) ? out : [out]) as tf.Tensor3D[];
}

function runMergeHeads(parts: tf.Tensor[], attrs: HeadsAttrs): tf.Tensor2D {
  return tf.engine().runKernel(MERGE_HEADS, Object.fromEntries(parts.map((t, c) => [`h${c}`, t])), attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * Attention heads of projected rows, differentiable: `x[B*T, C*D]` (C column blocks of H heads
 * of hd columns, e.g. q | k | v for C = 3) -> C tensors `[B*H, T, hd]`. One copy pass instead of
 * slicing x (wasm's Slice copies its whole input) and a reshape, rank-4 transpose and reshape per
 * part; the gradient is the merge below. Null when the native path is not available.
 */
export function nativeSplitHeads(x: tf.Tensor2D, batch: number, heads: number, parts: number): tf.Tensor3D[] | null {
  if (x.dtype !== "float32" || !ready()) return null;
  const time = x.shape[0] / batch;
  if (!Number.isInteger(time) || x.shape[1] % (parts * heads) !== 0) throw new Error(`nativeSplitHeads: [${x.shape}] is not ${batch} rows of ${parts} x ${heads} heads`);
  return runSplitHeads(x, { batch, time, heads, parts });
}

/** The inverse of `nativeSplitHeads`: C tensors `[B*H, T, hd]` -> `[B*T, C*H*hd]`, differentiable; null when unavailable. */
export function nativeMergeHeads(parts: tf.Tensor3D[], batch: number): tf.Tensor2D | null {
  if (parts.some((t) => t.dtype !== "float32") || !ready()) return null;
  const [BH, time] = parts[0].shape;
  return runMergeHeads(parts, { batch, time, heads: BH / batch, parts: parts.length });
}

/** Run fused op `op` of native/kernels.c on `inputs`, making `outputs`; null when unavailable. */
function fused(op: number, inputs: tf.Tensor[], params: Param[], outputs: number[][]): tf.Tensor[] | null {
  if (!ready()) return null;
  const named = Object.fromEntries(inputs.map((t, i) => [`i${i}`, t]));
  const attrs: FusedAttrs = { op, params, outputs: outputs.map((shape) => ({ shape, dtype: "float32" })) };
  const out = tf.engine().runKernel(FUSED, named, attrs as unknown as tf.NamedAttrMap);
  return Array.isArray(out) ? out : [out];
}

function ready(): boolean {
  if (!enabled || tf.getBackend() !== "wasm" || !load().module) return false;
  if (!registered) {
    const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
    if (!(backend.wasm?.HEAPU8 instanceof Uint8Array) || typeof backend.dataIdMap?.get !== "function" || typeof backend.makeOutput !== "function") {
      loaded = { module: null, why: "the wasm backend does not expose the tfjs-backend-wasm 4.22 internals" };
      return false;
    }
    tf.registerKernel({
      kernelName: FUSED,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => fusedKernel(inputs, b, attrs as unknown as FusedAttrs),
    });
    tf.registerKernel({ kernelName: SPLIT_HEADS, backendName: "wasm", kernelFunc: ({ inputs, backend: b, attrs }) => headsKernel(inputs, b, attrs as unknown as HeadsAttrs, true) });
    tf.registerKernel({ kernelName: MERGE_HEADS, backendName: "wasm", kernelFunc: ({ inputs, backend: b, attrs }) => headsKernel(inputs, b, attrs as unknown as HeadsAttrs, false) });
    // Pure permutations: each one's gradient is the other applied to the upstream gradient.
    tf.registerGradient({
      kernelName: SPLIT_HEADS,
      gradFunc: (dy, _saved, attrs) => ({ x: () => runMergeHeads(dy as tf.Tensor[], attrs as unknown as HeadsAttrs) }),
    });
    tf.registerGradient({
      kernelName: MERGE_HEADS,
      gradFunc: (dy, _saved, attrs) => {
        const parts = runSplitHeads(dy as tf.Tensor, attrs as unknown as HeadsAttrs);
        return Object.fromEntries(parts.map((t, c) => [`h${c}`, () => t]));
      },
    });
    tf.registerKernel({
      kernelName: GEMM,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => gemmKernel(inputs, b, attrs as unknown as GemmAttrs),
    });
    registered = true;
  }
  return true;
}

/** The native module when the native path is on (see `ready`), registering the kernels here first; else null. */
export function nativeModule(): NativeModule | null {
  return ready() ? load().module : null;
}

/** True when `nativeMatMul` will compute (wasm backend, module built, OpenBLAS found). */
export function nativeMatMulAvailable(): boolean {
  return ready();
}

/**
 * `alpha * op(a) @ op(b)` through OpenBLAS, or null when the native path is not available (then
 * use tf's ops). Rank 2: `a[M, K]`, `b[K, N]` -> `[M, N]`; rank 3: the same for each of G slices.
 * `op(x)` is x transposed (last two axes) when the flag is set. No gradient (see ./ops).
 */
export function nativeMatMul<T extends tf.Tensor2D | tf.Tensor3D>(a: T, b: T, transA = false, transB = false, alpha = 1): T | null {
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.rank !== b.rank || !ready()) return null;
  const r = a.rank;
  const [ak, bk] = [a.shape[r - (transA ? 2 : 1)], b.shape[r - (transB ? 1 : 2)]];
  if (ak !== bk || (r === 3 && a.shape[0] !== b.shape[0])) {
    throw new Error(`nativeMatMul: shapes [${a.shape}]${transA ? "^T" : ""} and [${b.shape}]${transB ? "^T" : ""} do not match`);
  }
  const attrs: GemmAttrs = { transA, transB, alpha };
  return tf.engine().runKernel(GEMM, { a, b }, attrs as unknown as tf.NamedAttrMap) as T;
}

const input = (i: number) => ({ input: i });
const output = (i: number) => ({ output: i });

/**
 * Row-wise log-softmax of `logits[N, V] / temperature`, read at `targets[N]` (int32), with the
 * entropy of each row: `{logpEntropy[2, N]}` (row 0 log p of the target, row 1 the entropy: one
 * tensor, because tf.customGrad takes a single output) and `lse[N]` (log-sum-exp of each scaled
 * row, kept for the gradient). Null when the native path is not available.
 */
export function nativeTokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D, temperature: number): { logpEntropy: tf.Tensor2D; lse: tf.Tensor1D } | null {
  const [N, V] = logits.shape;
  const out = fused(OP.logprobs, [logits, targets], [input(0), input(1), N, V, 1 / temperature, output(0), { output: 0, plus: N }, output(1)], [[2, N], [N]]);
  return out && { logpEntropy: out[0] as tf.Tensor2D, lse: out[1] as tf.Tensor1D };
}

/**
 * Gradient of `nativeTokenLogProbs` with respect to the logits, `[N, V]`, given the upstream
 * gradient `dLogpEntropy[2, N]` (of log p, then of the entropy). With `a = logits / temperature`
 * and `p = softmax(a)`: `d logp / d a_j = 1[j = target] - p_j`,
 * `d entropy / d a_j = -p_j (log p_j + entropy)`.
 */
export function nativeTokenLogProbsGrad(logits: tf.Tensor2D, targets: tf.Tensor1D, lse: tf.Tensor1D, logpEntropy: tf.Tensor2D, dLogpEntropy: tf.Tensor2D, temperature: number): tf.Tensor2D | null {
  const [N, V] = logits.shape;
  const params = [input(0), input(1), input(2), { input: 3, plus: N }, input(4), { input: 4, plus: N }, N, V, 1 / temperature, output(0)];
  const out = fused(OP.logprobsGrad, [logits, targets, lse, logpEntropy, dLogpEntropy], params, [[N, V]]);
  return out && (out[0] as tf.Tensor2D);
}

/** RMSNorm forward `y = x * g * r`, `r = 1 / sqrt(mean(x^2) + eps)`: `{y[N, D], r[N]}`. */
export function nativeRmsNorm(x: tf.Tensor2D, g: tf.Tensor1D, eps: number): { y: tf.Tensor2D; r: tf.Tensor1D } | null {
  const [N, D] = x.shape;
  const out = fused(OP.rmsNorm, [x, g], [input(0), input(1), N, D, eps, output(0), output(1)], [[N, D], [N]]);
  return out && { y: out[0] as tf.Tensor2D, r: out[1] as tf.Tensor1D };
}

/** RMSNorm backward (formulas in ./ops rmsNorm): `{dx[N, D], dg[D]}`. */
export function nativeRmsNormGrad(x: tf.Tensor2D, g: tf.Tensor1D, r: tf.Tensor1D, dy: tf.Tensor2D): { dx: tf.Tensor2D; dg: tf.Tensor1D } | null {
  const [N, D] = x.shape;
  const out = fused(OP.rmsNormGrad, [x, g, r, dy], [input(0), input(1), input(2), input(3), N, D, output(0), output(1), 0], [[N, D], [D]]);
  return out && { dx: out[0] as tf.Tensor2D, dg: out[1] as tf.Tensor1D };
}

/**
 * The gradient of an embedding lookup: `table[V, D]` with row v the sum of the rows of
 * `dy[N, D]` whose id is v (`ids[N]` int32, each in [0, V)); one pass instead of a one-hot
 * `[N, V]` matrix and a product. Null when the native path is not available.
 */
export function nativeScatterRows(dy: tf.Tensor2D, ids: tf.Tensor1D, vocab: number): tf.Tensor2D | null {
  const [N, D] = dy.shape;
  const out = fused(OP.scatterRows, [dy, ids], [input(0), input(1), N, vocab, D, output(0)], [[vocab, D]]);
  return out && (out[0] as tf.Tensor2D);
}

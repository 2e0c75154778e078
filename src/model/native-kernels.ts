/**
 * Matrix products of the policy model through the system's OpenBLAS, for the tfjs `wasm`
 * backend. tfjs-backend-wasm keeps every tensor in one WebAssembly.Memory; a small native Node
 * module (native/kernels.c, built by scripts/build-native.sh into build/native/) computes
 * `op(A) @ op(B)` in place on that memory with OpenBLAS's cblas_sgemm: AVX2/FMA on x86 instead of
 * XNNPACK's 128-bit wasm SIMD, and transposed operands as flags instead of transpose kernels.
 *
 * Everything here is optional: on any other backend, without the built module, without
 * OpenBLAS, or with MURPHY_NATIVE=0, `nativeMatMul` returns null and the caller uses tf's own
 * ops (./ops keeps those paths), so the GPU (tfjs-node-gpu) and cpu backends are untouched.
 *
 * Threads: OpenBLAS runs on one thread unless MURPHY_BLAS_THREADS says otherwise (experiments
 * already run one process per core).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

interface NativeModule {
  info(): { available: boolean; error?: string; core?: string; config?: string; threads?: number };
  setThreads(n: number): void;
  gemm(heap: ArrayBuffer, params: Float64Array): void;
}

/** The parts of tfjs-backend-wasm's backend object used here (tfjs-backend-wasm 4.22). */
interface WasmBackendInternals {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
}

/** Where scripts/build-native.sh puts the module (the project root's build/ folder). */
export const NATIVE_MODULE_PATH = path.join(__dirname, "..", "..", "build", "native", "murphy_kernels.node");

const GEMM = "MurphyNativeGemm";

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

function gemmKernel(inputs: tf.NamedTensorInfoMap, backendIn: unknown, attrs: { transA: boolean; transB: boolean; alpha: number }): tf.TensorInfo {
  const backend = backendIn as WasmBackendInternals;
  const module = load().module!;
  const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const batched = a.shape.length === 3;
  const [G, aRows, aCols] = batched ? a.shape : [1, ...a.shape];
  const [, bRows, bCols] = batched ? b.shape : [1, ...b.shape];
  const [M, K] = attrs.transA ? [aCols, aRows] : [aRows, aCols];
  const N = attrs.transB ? bRows : bCols;
  const out = backend.makeOutput(batched ? [G, M, N] : [M, N], "float32");
  const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  params.set([attrs.transA ? 1 : 0, attrs.transB ? 1 : 0, M, N, K, attrs.alpha, offset(a), aCols, aRows * aCols, offset(b), bCols, bRows * bCols, 0, offset(out), N, M * N, G]);
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

function ready(): boolean {
  if (!enabled || tf.getBackend() !== "wasm" || !load().module) return false;
  if (!registered) {
    const backend = tf.backend() as unknown as Partial<WasmBackendInternals>;
    if (!(backend.wasm?.HEAPU8 instanceof Uint8Array) || typeof backend.dataIdMap?.get !== "function" || typeof backend.makeOutput !== "function") {
      loaded = { module: null, why: "the wasm backend does not expose the tfjs-backend-wasm 4.22 internals" };
      return false;
    }
    tf.registerKernel({
      kernelName: GEMM,
      backendName: "wasm",
      kernelFunc: ({ inputs, backend: b, attrs }) => gemmKernel(inputs, b, attrs as unknown as { transA: boolean; transB: boolean; alpha: number }),
    });
    registered = true;
  }
  return true;
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
  const [ak, bk] = [a.shape[a.rank - (transA ? 2 : 1)], b.shape[b.rank - (transB ? 1 : 2)]];
  if (ak !== bk || (a.rank === 3 && a.shape[0] !== b.shape[0])) {
    throw new Error(`nativeMatMul: shapes [${a.shape}]${transA ? "^T" : ""} and [${b.shape}]${transB ? "^T" : ""} do not match`);
  }
  return tf.engine().runKernel(GEMM, { a, b }, { transA, transB, alpha } as unknown as tf.NamedAttrMap) as T;
}

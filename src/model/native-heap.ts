/**
 * Native kernels that chain several native steps inside ONE tfjs kernel launch.
 *
 * Every tfjs kernel launch costs bookkeeping (engine scopes, tensor records, the autodiff tape,
 * tensors saved for the backward pass), about as much as the arithmetic of a small product at
 * the kit's shapes. The fused ops of ./fused/ therefore run a whole block (e.g. RMSNorm, a
 * product, ReLU, a second product and the residual add) as one registered kernel whose body
 * works directly on the wasm heap through a `Heap`: offsets of the input tensors, new tensors
 * for outputs and scratch, OpenBLAS products on offsets (with leading dimensions, so a product
 * can read or write a column block of a wider matrix) and the row-wise ops of native/kernels.c.
 *
 * `defineNativeKernel(name, body)` returns a runner that registers the kernel the first time
 * the native path is available and returns null otherwise (then the caller takes its tf-only
 * fallback, as with every other native kernel here).
 */
import * as tf from "@tensorflow/tfjs";
import { nativeModule, type NativeModule, type WasmBackendInternals } from "./native-kernels";

/** One product `C = alpha op(A) op(B) + beta C` on float offsets into the heap (row-major). */
export interface HeapProduct {
  a: number;
  lda: number;
  b: number;
  ldb: number;
  c: number;
  ldc: number;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

const gemmParams = new Float64Array(17);

/** What a native kernel body sees: the wasm heap of the backend and the native module. */
export class Heap {
  constructor(
    private readonly backend: WasmBackendInternals,
    private readonly module: NativeModule,
  ) {}

  /** Float (4-byte) offset of a tensor's data in the heap. */
  at(t: tf.TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId)!.memoryOffset / 4;
  }

  /** A new float32 tensor, uninitialised: an output of the kernel, or scratch to `free`. */
  alloc(shape: number[]): tf.TensorInfo {
    return this.backend.makeOutput(shape, "float32");
  }

  free(...ts: tf.TensorInfo[]): void {
    for (const t of ts) this.backend.disposeData(t.dataId, true);
  }

  /** The heap as floats. Read it again after any `alloc`: an allocation may grow (replace) it. */
  private floats(): Float32Array {
    return new Float32Array(this.backend.wasm.HEAPU8.buffer);
  }

  /** `n` floats from offset `src` to offset `dst`. */
  copy(dst: number, src: number, n: number): void {
    this.floats().copyWithin(dst, src, src + n);
  }

  /** `n` floats read at offset `at` (a copy). */
  read(at: number, n: number): Float32Array {
    return this.floats().slice(at, at + n);
  }

  gemm(p: HeapProduct): void {
    gemmParams.set([p.transA ? 1 : 0, p.transB ? 1 : 0, p.M, p.N, p.K, p.alpha ?? 1, p.a, p.lda, 0, p.b, p.ldb, 0, p.beta ?? 0, p.c, p.ldc, 0, 1]);
    this.module.gemm(this.backend.wasm.HEAPU8.buffer as ArrayBuffer, gemmParams);
  }

  /** Op `op` of native/kernels.c `run` with its parameters (offsets and sizes). */
  run(op: number, params: number[]): void {
    this.module.run(this.backend.wasm.HEAPU8.buffer as ArrayBuffer, Float64Array.from([op, ...params]));
  }
}

/** A native kernel body: input tensors in the order given, attributes, the outputs it makes. */
export type NativeBody<A> = (heap: Heap, inputs: tf.TensorInfo[], attrs: A) => tf.TensorInfo[];

/**
 * Register `body` as tfjs kernel `name` on wasm (lazily) and return a runner:
 * `run(inputs, attrs)` -> the kernel's outputs as tensors, or null when the native path is off.
 */
export function defineNativeKernel<A extends object>(name: string, body: NativeBody<A>): (inputs: tf.Tensor[], attrs: A) => tf.Tensor[] | null {
  let registered = false;
  return (inputs, attrs) => {
    const module = nativeModule();
    if (!module) return null;
    if (!registered) {
      tf.registerKernel({
        kernelName: name,
        backendName: "wasm",
        kernelFunc: ({ inputs: named, backend, attrs: a }) => {
          const ordered = Array.from({ length: Object.keys(named).length }, (_, i) => named[`i${i}`] as tf.TensorInfo);
          return body(new Heap(backend as unknown as WasmBackendInternals, module), ordered, a as unknown as A);
        },
      });
      registered = true;
    }
    const named = Object.fromEntries(inputs.map((t, i) => [`i${i}`, t]));
    const out = tf.engine().runKernel(name, named, attrs as unknown as tf.NamedAttrMap);
    return Array.isArray(out) ? out : [out];
  };
}

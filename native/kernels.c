/*
 * Native kernels for the kit's tfjs `wasm` backend: matrix products through the system's
 * OpenBLAS, computed in place on the wasm heap (tfjs-backend-wasm keeps every tensor in one
 * WebAssembly.Memory; JavaScript passes that ArrayBuffer and float offsets into it).
 *
 * Why: the wasm backend's matMul (XNNPACK, 128-bit wasm SIMD, no FMA) reaches 12-23 GFLOP/s on
 * one core here and needs explicit transposes for gradients; OpenBLAS (AVX2 + FMA) is what a
 * researcher's PyTorch uses, and takes transposed operands as flags. See src/model/native-kernels.ts.
 *
 * OpenBLAS is opened at load time with dlopen (Debian's libopenblas0-pthread, -openmp or
 * -serial all provide libopenblas.so.0), so building needs only a C compiler and Node's headers;
 * without OpenBLAS the module still loads and `info()` says why it cannot be used.
 *
 * Built by scripts/build-native.sh into build/native/murphy_kernels.node.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>

typedef void (*sgemm_fn)(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                         const float *B, int ldb, float beta, float *C, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_string_fn)(void);

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;
static get_threads_fn get_threads = NULL;
static get_string_fn get_corename = NULL;
static get_string_fn get_config = NULL;
static char load_error[512] = "";

static void load_openblas(void) {
  const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
  void *lib = NULL;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(load_error, sizeof load_error, "OpenBLAS not found (dlopen libopenblas.so.0: %s)", dlerror());
    return;
  }
  sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
  get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
  get_corename = (get_string_fn)dlsym(lib, "openblas_get_corename");
  get_config = (get_string_fn)dlsym(lib, "openblas_get_config");
  if (!sgemm || !set_threads || !get_threads || !get_corename || !get_config) {
    sgemm = NULL;
    snprintf(load_error, sizeof load_error, "libopenblas.so.0 lacks cblas_sgemm or the openblas_* functions");
    return;
  }
  /* One thread unless asked otherwise: experiments already run one process per core. */
  set_threads(1);
}

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, NULL, "murphy_kernels: N-API call failed"); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static napi_value make_string(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* info() -> {available, error?, core?, config?, threads?} */
static napi_value info(napi_env env, napi_callback_info cb) {
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_get_boolean(env, sgemm != NULL, &v));
  CHECK(napi_set_named_property(env, out, "available", v));
  if (!sgemm) {
    CHECK(napi_set_named_property(env, out, "error", make_string(env, load_error)));
    return out;
  }
  CHECK(napi_set_named_property(env, out, "core", make_string(env, get_corename())));
  CHECK(napi_set_named_property(env, out, "config", make_string(env, get_config())));
  CHECK(napi_create_int32(env, get_threads(), &v));
  CHECK(napi_set_named_property(env, out, "threads", v));
  return out;
}

/* setThreads(n) */
static napi_value set_thread_count(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &n));
  if (sgemm && n >= 1) set_threads(n);
  return NULL;
}

/* Float offsets and sizes into the heap, checked so a bad call throws instead of corrupting memory. */
static int in_heap(size_t heap_floats, double offset, double extent) {
  return offset >= 0 && extent >= 0 && offset + extent <= (double)heap_floats;
}

/*
 * gemm(heap: ArrayBuffer, p: Float64Array) with
 *   p = [transA, transB, M, N, K, alpha, aOff, lda, strideA, bOff, ldb, strideB, beta, cOff, ldc, strideC, batch]
 * For g < batch: C_g = alpha * op(A_g) op(B_g) + beta * C_g, row-major, A_g at aOff + g * strideA
 * (float offsets into heap), op = transpose when the flag is 1.
 */
static napi_value gemm(napi_env env, napi_callback_info cb) {
  size_t argc = 2;
  napi_value argv[2];
  void *heap_data;
  size_t heap_bytes;
  napi_typedarray_type type;
  size_t count;
  void *pdata;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  if (!sgemm) {
    napi_throw_error(env, NULL, load_error);
    return NULL;
  }
  CHECK(napi_get_arraybuffer_info(env, argv[0], &heap_data, &heap_bytes));
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &count, &pdata, NULL, NULL));
  if (type != napi_float64_array || count != 17) {
    napi_throw_type_error(env, NULL, "gemm: parameters must be a Float64Array of 17 numbers");
    return NULL;
  }
  const double *p = (const double *)pdata;
  int transA = p[0] != 0, transB = p[1] != 0;
  int M = (int)p[2], N = (int)p[3], K = (int)p[4];
  float alpha = (float)p[5], beta = (float)p[12];
  double aOff = p[6], bOff = p[9], cOff = p[13], strideA = p[8], strideB = p[11], strideC = p[15];
  int lda = (int)p[7], ldb = (int)p[10], ldc = (int)p[14];
  int batch = (int)p[16];
  size_t heap_floats = heap_bytes / sizeof(float);
  double last = batch > 0 ? batch - 1 : 0;
  double aRows = transA ? K : M, bRows = transB ? N : K;
  if (M < 0 || N < 0 || K < 0 || batch < 0 ||
      !in_heap(heap_floats, aOff + last * strideA, aRows * (double)lda) ||
      !in_heap(heap_floats, bOff + last * strideB, bRows * (double)ldb) ||
      !in_heap(heap_floats, cOff + last * strideC, (double)M * ldc)) {
    napi_throw_range_error(env, NULL, "gemm: operands outside the heap");
    return NULL;
  }
  float *base = (float *)heap_data;
  for (int g = 0; g < batch; g++) {
    sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, alpha,
          base + (size_t)(aOff + g * strideA), lda, base + (size_t)(bOff + g * strideB), ldb, beta,
          base + (size_t)(cOff + g * strideC), ldc);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  load_openblas();
  napi_property_descriptor props[] = {
      {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

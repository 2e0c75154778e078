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
 * Besides the products, `run(op, heap, params)` runs a few fused kernels that replace chains of
 * small tfjs kernels (each of which walks the whole tensor once): log-softmax with the picked
 * token and entropy, RMSNorm and its gradient, attention over packed q | k | v projections (with
 * a shared prefix) and its gradient, ReLU, the embedding gradient, the split of projected rows
 * into attention heads and the merge back (the sampling cache), and the optimizer's global norm
 * and AdamW update. Their maths is in src/model/native-kernels.ts and src/model/fused/.
 *
 * Built by scripts/build-native.sh into build/native/murphy_kernels.node.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * ---- fused row-wise kernels; every offset is in 4-byte units into the heap ----
 * Unlike gemm these trust their caller: src/model/native-kernels.ts passes only the offsets and
 * shapes of live tensors it has just allocated or been given by tfjs.
 */

/*
 * Maximum and minimum as plain comparisons: C's fmaxf/fminf must honour NaN and signed-zero
 * rules the vector max instruction does not, so without -ffast-math they stay library calls
 * and keep every loop using them scalar (10x slower here).
 */
static inline float maxf(float a, float b) {
  return a > b ? a : b;
}

static inline float minf(float a, float b) {
  return a < b ? a : b;
}

/*
 * exp(x) without a library call, so loops over rows vectorise: x = n ln2 + r with n an integer
 * and |r| <= ln2 / 2, exp(r) by its Taylor series to degree 7 (relative error < 1e-8 there, below
 * float32 rounding), times 2^n built in the exponent bits. Inputs below -87 give 2^-126 * e^r
 * (~1e-38) instead of 0: these kernels only exponentiate x - max(x) <= 0, where that is a
 * contribution of 1e-38 next to at least 1.
 */
static inline float fexp(float x) {
  x = minf(maxf(x, -87.f), 88.f);
  /* n = round(x / ln2) by the 1.5 * 2^23 trick: floorf stays a library call without -ffast-math. */
  float n = (x * 1.44269504f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693145752f - n * 1.42860677e-6f; /* ln2 split in two for an exact n ln2 */
  float p = 1.f + r * (1.f + r * (0.5f + r * (1.f / 6 + r * (1.f / 24 + r * (1.f / 120 + r * (1.f / 720 + r * (1.f / 5040)))))));
  union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) << 23};
  return p * scale.f;
}

/*
 * Row sums and maxima carry `omp simd reduction` (built with -fopenmp-simd, no OpenMP runtime):
 * without it the compiler keeps a float sum in source order, one element at a time, and the
 * exponentials feeding it scalar too (4-8x slower). The vector order is fixed for a build, so the
 * same inputs give the same numbers run after run.
 */

enum {
  OP_LOGPROBS = 1,          /* z[N,V], t[N] int32, invT -> logp[N], entropy[N] (may be adjacent), lse[N] */
  OP_LOGPROBS_GRAD = 2,     /* z, t, lse, entropy, dlogp[N], dent[N], invT -> dz[N,V] */
  OP_RMSNORM = 3,           /* x[N,D], g[D], eps -> y[N,D], r[N] */
  OP_RMSNORM_GRAD = 4,      /* x, g, r, dy, accumulate -> dx[N,D] (overwritten or added to), dg[D] */
  OP_ADAM = 5,              /* w, m, v [n], lr, b1, b2, c1, c2, eps, decay, scale, k grads -> w', m', v' */
  OP_SPLIT_HEADS = 6,       /* x[B*T, C*H*hd], B, T, H, hd, C -> C outputs [B*H, T, hd] */
  OP_MERGE_HEADS = 7,       /* C inputs [B*H, T, hd], B, T, H, hd, C -> x[B*T, C*H*hd] */
  OP_SUM_SQUARES = 8,       /* k tensors g_i[n] -> out[0] = sum over elements of (sum_i g_i)^2 */
  OP_SCATTER_ROWS = 9,      /* dy[N, D], ids[N] int32 -> table[V, D] = sum of the rows of dy per id */
  OP_ATTENTION = 10,        /* qkv[B*T, 3D], prefix qkv[G*P, 3D] -> probs[H, B*T, P+T], a[B*T, D] (see attention) */
  OP_ATTENTION_GRAD = 11,   /* qkv, prefix qkv, probs, da -> dqkv[B*T, 3D], dprefix[G*P, 3D] */
  OP_RELU = 12,             /* x[n] -> max(x, 0), in place */
  OP_RELU_GRAD = 13         /* y[n] (relu output), d[n] -> d * (y > 0), in place */
};

static void logprobs(float *h, const double *p) {
  const float *z = h + (size_t)p[0];
  const int32_t *t = (const int32_t *)(h + (size_t)p[1]);
  int N = (int)p[2], V = (int)p[3];
  float invT = (float)p[4];
  float *logp = h + (size_t)p[5], *ent = h + (size_t)p[6], *lse_out = h + (size_t)p[7];
  for (int i = 0; i < N; i++) {
    const float *row = z + (size_t)i * V;
    float mx = -INFINITY;
    #pragma omp simd reduction(max : mx)
    for (int j = 0; j < V; j++) mx = maxf(mx, row[j] * invT);
    float sum = 0.f, dot = 0.f;
    #pragma omp simd reduction(+ : sum, dot)
    for (int j = 0; j < V; j++) {
      float a = row[j] * invT, e = fexp(a - mx);
      sum += e;
      dot += e * a;
    }
    float lse = mx + logf(sum);
    lse_out[i] = lse;
    logp[i] = row[t[i]] * invT - lse;
    ent[i] = lse - dot / sum; /* -sum p log p = lse - E_p[a] */
  }
}

static void logprobs_grad(float *h, const double *p) {
  const float *z = h + (size_t)p[0];
  const int32_t *t = (const int32_t *)(h + (size_t)p[1]);
  const float *lse = h + (size_t)p[2], *ent = h + (size_t)p[3], *dlogp = h + (size_t)p[4];
  const float *dent = h + (size_t)p[5];
  int N = (int)p[6], V = (int)p[7];
  float invT = (float)p[8];
  float *dz = h + (size_t)p[9];
  for (int i = 0; i < N; i++) {
    const float *row = z + (size_t)i * V;
    float *out = dz + (size_t)i * V;
    float g = dlogp[i], ge = dent[i], H = ent[i], L = lse[i];
    #pragma omp simd
    for (int j = 0; j < V; j++) {
      float lp = row[j] * invT - L, pj = fexp(lp);
      /* d logp_t / d a_j = 1[j=t] - p_j;  d H / d a_j = -p_j (log p_j + H) */
      out[j] = invT * (-g * pj - ge * pj * (lp + H));
    }
    out[t[i]] += invT * g;
  }
}

/*
 * Rows to heads and back: column block c of x[B*T, C*D] (D = H * hd) holds the H heads of part c
 * (q, k, v for C = 3) side by side; part c as [B*H, T, hd] puts each (row b, head h) slice
 * together, as attention's batched products want it. A pure permutation of copies: the same
 * as tf's reshape, transpose [0, 2, 1, 3], reshape, in one pass and without slicing x first.
 * parts[c] are the heap offsets of the C part tensors (outputs of split, inputs of merge).
 */
static void heads_copy(float *h, const double *p, int split) {
  float *x = h + (size_t)p[0];
  int B = (int)p[1], T = (int)p[2], H = (int)p[3], hd = (int)p[4], C = (int)p[5];
  size_t D = (size_t)H * hd, width = (size_t)C * D;
  for (int c = 0; c < C; c++) {
    float *part = h + (size_t)p[6 + c];
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        float *row = x + ((size_t)b * T + t) * width + c * D;
        for (int k = 0; k < H; k++) {
          float *slice = part + (((size_t)b * H + k) * T + t) * hd;
          if (split) memcpy(slice, row + (size_t)k * hd, hd * sizeof(float));
          else memcpy(row + (size_t)k * hd, slice, hd * sizeof(float));
        }
      }
    }
  }
}

static void rmsnorm(float *h, const double *p) {
  const float *x = h + (size_t)p[0], *g = h + (size_t)p[1];
  int N = (int)p[2], D = (int)p[3];
  float eps = (float)p[4];
  float *y = h + (size_t)p[5], *r = h + (size_t)p[6];
  for (int i = 0; i < N; i++) {
    const float *xr = x + (size_t)i * D;
    float ss = 0.f;
    #pragma omp simd reduction(+ : ss)
    for (int j = 0; j < D; j++) ss += xr[j] * xr[j];
    float ri = 1.f / sqrtf(ss / D + eps);
    r[i] = ri;
    float *yr = y + (size_t)i * D;
    for (int j = 0; j < D; j++) yr[j] = xr[j] * ri * g[j];
  }
}

/* dx is overwritten, or added to when p[8] (accumulate) is 1: a residual's gradient arrives there first. */
static void rmsnorm_grad(float *h, const double *p) {
  const float *x = h + (size_t)p[0], *g = h + (size_t)p[1], *r = h + (size_t)p[2], *dy = h + (size_t)p[3];
  int N = (int)p[4], D = (int)p[5];
  float *dx = h + (size_t)p[6], *dg = h + (size_t)p[7];
  int accumulate = p[8] != 0;
  for (int j = 0; j < D; j++) dg[j] = 0.f;
  for (int i = 0; i < N; i++) {
    const float *xr = x + (size_t)i * D, *dyr = dy + (size_t)i * D;
    float *dxr = dx + (size_t)i * D;
    float ri = r[i], inner = 0.f;
    /* u = dy * g;  dx = r u - x r^3 mean(u x);  dg = sum_rows dy x r */
    #pragma omp simd reduction(+ : inner)
    for (int j = 0; j < D; j++) {
      inner += dyr[j] * g[j] * xr[j];
      dg[j] += dyr[j] * xr[j] * ri;
    }
    float k = ri * ri * ri * inner / D;
    /* Not `keep * dx + ...`: a fresh output holds garbage, and 0 * NaN is NaN. */
    if (accumulate) for (int j = 0; j < D; j++) dxr[j] += ri * dyr[j] * g[j] - xr[j] * k;
    else for (int j = 0; j < D; j++) dxr[j] = ri * dyr[j] * g[j] - xr[j] * k;
  }
}

/*
 * AdamW on one weight whose gradient is `scale * (g_0 + ... + g_{k-1})`: the micro-batches'
 * gradients summed and the global-norm clip applied here, without a tensor for either.
 */
static void adam(float *h, const double *p) {
  const float *w = h + (size_t)p[0], *m = h + (size_t)p[1], *v = h + (size_t)p[2];
  size_t n = (size_t)p[3];
  float lr = (float)p[4], b1 = (float)p[5], b2 = (float)p[6], c1 = (float)p[7], c2 = (float)p[8], eps = (float)p[9], keep = (float)p[10];
  float *w2 = h + (size_t)p[11], *m2 = h + (size_t)p[12], *v2 = h + (size_t)p[13];
  float scale = (float)p[14];
  int k = (int)p[15];
  const float *g = h + (size_t)p[16];
  if (k > 1) {
    /* Sum the parts into v2 first (its own values are written last, element by element). */
    float *sum = v2;
    for (size_t i = 0; i < n; i++) sum[i] = g[i];
    for (int j = 1; j < k; j++) {
      const float *gj = h + (size_t)p[16 + j];
      #pragma omp simd
      for (size_t i = 0; i < n; i++) sum[i] += gj[i];
    }
    g = sum;
  }
  #pragma omp simd
  for (size_t i = 0; i < n; i++) {
    float gi = g[i] * scale;
    float mi = m[i] * b1 + gi * (1.f - b1);
    float vi = v[i] * b2 + gi * gi * (1.f - b2);
    m2[i] = mi;
    v2[i] = vi;
    w2[i] = w[i] * keep - (mi / c1) / (sqrtf(vi / c2) + eps) * lr;
  }
}

/*
 * Sum of squares of `g_0 + ... + g_{k-1}` (n floats each): p = [out, n, k, g_0, ...]. Vectorised
 * float sums over blocks of 512, the blocks added in double (a float sum of ~1e5 squares in one
 * chain would lose digits).
 */
static void sum_squares(float *h, const double *p) {
  float *out = h + (size_t)p[0];
  size_t n = (size_t)p[1];
  int k = (int)p[2];
  const float *g0 = h + (size_t)p[3], *g1 = k > 1 ? h + (size_t)p[4] : NULL;
  double total = 0;
  for (size_t start = 0; start < n; start += 512) {
    size_t end = start + 512 < n ? start + 512 : n;
    float block = 0.f;
    if (k == 1) {
      #pragma omp simd reduction(+ : block)
      for (size_t i = start; i < end; i++) block += g0[i] * g0[i];
    } else if (k == 2) {
      #pragma omp simd reduction(+ : block)
      for (size_t i = start; i < end; i++) block += (g0[i] + g1[i]) * (g0[i] + g1[i]);
    } else {
      for (size_t i = start; i < end; i++) {
        float s = 0.f;
        for (int j = 0; j < k; j++) s += h[(size_t)p[3 + j] + i];
        block += s * s;
      }
    }
    total += block;
  }
  out[0] = (float)total;
}

/* Embedding gradient: table[V, D] = 0, then row ids[i] += dy[i] for each of the N rows. */
static void scatter_rows(float *h, const double *p) {
  const float *dy = h + (size_t)p[0];
  const int32_t *ids = (const int32_t *)(h + (size_t)p[1]);
  size_t N = (size_t)p[2], V = (size_t)p[3], D = (size_t)p[4];
  float *table = h + (size_t)p[5];
  memset(table, 0, V * D * sizeof(float));
  for (size_t i = 0; i < N; i++) {
    float *row = table + (size_t)ids[i] * D;
    const float *src = dy + i * D;
    #pragma omp simd
    for (size_t j = 0; j < D; j++) row[j] += src[j];
  }
}

static void relu(float *h, const double *p) {
  float *x = h + (size_t)p[0];
  size_t n = (size_t)p[1];
  #pragma omp simd
  for (size_t i = 0; i < n; i++) x[i] = maxf(x[i], 0.f);
}

static void relu_grad(float *h, const double *p) {
  const float *y = h + (size_t)p[0];
  float *d = h + (size_t)p[1];
  size_t n = (size_t)p[2];
  #pragma omp simd
  for (size_t i = 0; i < n; i++) d[i] = y[i] > 0.f ? d[i] : 0.f;
}

/* Rows per block of the causal products (a block of rows reads only the columns up to its end). */
#define CAUSAL_BLOCK 32

/*
 * Attention over packed projections, without splitting them into heads first. Row block b of
 * qkv[B*T, 3D] holds T positions, each q | k | v (D = H * hd; head h at columns h*hd of each
 * block). Position i of row b, head h, attends causally to positions 0..i of its own row and,
 * when P > 0, first to the first len[g] rows of prefix g = group[b] of pqkv[G*P, 3D] (its k and
 * v blocks; its q block is never read). One softmax over both: probs[H, B*T, W], W = P + T,
 * prefix columns first (columns len[g]..P-1 and own columns after i are 0). The output
 * a[B*T, D] has each head at its columns, as the attention projection reads it. Every product is
 * a strided cblas_sgemm on the packed rows (ld 3D), so there are no head copies at all; the
 * products with a prefix run once per run of consecutive rows that share it (its sibling
 * group), over all of their positions at once.
 * p = [qkv, pqkv (ignored when P = 0), probs, a, B, T, H, hd, P, scale, group[B]..., len[G]...].
 */

/* End of the run of consecutive rows from b0 that read the same prefix (b0 + 1 without one). */
static int run_end(const double *group, int b0, int B, int P) {
  int b1 = b0 + 1;
  while (P > 0 && b1 < B && group[b1] == group[b0]) b1++;
  return b1;
}

static void attention(float *h, const double *p) {
  float *qkv = h + (size_t)p[0], *pqkv = h + (size_t)p[1], *probs = h + (size_t)p[2], *out = h + (size_t)p[3];
  int B = (int)p[4], T = (int)p[5], H = (int)p[6], hd = (int)p[7], P = (int)p[8];
  float scale = (float)p[9];
  const double *group = p + 10, *len = p + 10 + B;
  int D = H * hd, W = P + T, ld = 3 * D;
  for (int hh = 0; hh < H; hh++) {
    float *ph = probs + (size_t)hh * B * T * W;
    /* Prefix scores, one product per run of rows sharing a prefix. */
    for (int b0 = 0, b1; b0 < B && P > 0; b0 = b1) {
      b1 = run_end(group, b0, B, P);
      int g = (int)group[b0], L = (int)len[g];
      const float *kp = pqkv + (size_t)g * P * ld + D + hh * hd;
      if (L > 0) sgemm(ROW_MAJOR, NO_TRANS, TRANS, (b1 - b0) * T, L, hd, scale, qkv + (size_t)b0 * T * ld + hh * hd, ld, kp, ld, 0.f, ph + (size_t)b0 * T * W, W);
    }
    for (int b = 0; b < B; b++) {
      int L = P > 0 ? (int)len[(int)group[b]] : 0;
      const float *q = qkv + (size_t)b * T * ld + hh * hd, *k = q + D, *v = q + 2 * D;
      float *pr = ph + (size_t)b * T * W;
      /* Own scores by causal row blocks: rows r0..r1-1 need columns 0..r1-1 only. */
      for (int r0 = 0; r0 < T; r0 += CAUSAL_BLOCK) {
        int r1 = r0 + CAUSAL_BLOCK < T ? r0 + CAUSAL_BLOCK : T;
        sgemm(ROW_MAJOR, NO_TRANS, TRANS, r1 - r0, r1, hd, scale, q + (size_t)r0 * ld, ld, k, ld, 0.f, pr + (size_t)r0 * W + P, W);
      }
      for (int i = 0; i < T; i++) {
        float *rp = pr + (size_t)i * W, *rs = rp + P;
        float mx = -INFINITY, sum = 0.f;
        #pragma omp simd reduction(max : mx)
        for (int j = 0; j < L; j++) mx = maxf(mx, rp[j]);
        #pragma omp simd reduction(max : mx)
        for (int j = 0; j <= i; j++) mx = maxf(mx, rs[j]);
        #pragma omp simd reduction(+ : sum)
        for (int j = 0; j < L; j++) sum += (rp[j] = fexp(rp[j] - mx));
        #pragma omp simd reduction(+ : sum)
        for (int j = 0; j <= i; j++) sum += (rs[j] = fexp(rs[j] - mx));
        float inv = 1.f / sum;
        for (int j = 0; j < L; j++) rp[j] *= inv;
        for (int j = L; j < P; j++) rp[j] = 0.f;
        for (int j = 0; j <= i; j++) rs[j] *= inv;
        for (int j = i + 1; j < T; j++) rs[j] = 0.f;
      }
      float *o = out + (size_t)b * T * D + hh * hd;
      for (int r0 = 0; r0 < T; r0 += CAUSAL_BLOCK) {
        int r1 = r0 + CAUSAL_BLOCK < T ? r0 + CAUSAL_BLOCK : T;
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, r1 - r0, hd, r1, 1.f, pr + (size_t)r0 * W + P, W, v, ld, 0.f, o + (size_t)r0 * D, D);
      }
    }
    /* Prefix values added per run. */
    for (int b0 = 0, b1; b0 < B && P > 0; b0 = b1) {
      b1 = run_end(group, b0, B, P);
      int g = (int)group[b0], L = (int)len[g];
      const float *vp = pqkv + (size_t)g * P * ld + 2 * D + hh * hd;
      if (L > 0) sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, (b1 - b0) * T, hd, L, 1.f, ph + (size_t)b0 * T * W, W, vp, ld, 1.f, out + (size_t)b0 * T * D + hh * hd, D);
    }
  }
}

/*
 * Backward of `attention`, given da[B*T, D]: per (row, head), with dP = dA [vp; v]^T and the
 * softmax backward dS = P * (dP - rowsum(dP * P)) * scale (P, dP, dS split into their prefix
 * and own columns _p and _s): dQ = dS_p kp + dS_s k, dK = dS_s^T Q, dV = P_s^T dA, and the
 * prefix's dKp += dS_p^T Q, dVp += P_p^T dA, summed over the rows that read it (the prefix
 * products again once per run of rows). Writes dqkv[B*T, 3D] and dpqkv[G*P, 3D] (zeroed here;
 * its q block and rows beyond len stay 0).
 * p = [qkv, pqkv, probs, da, dqkv, dpqkv, B, T, H, hd, P, G, scale, group..., len...].
 */
static void attention_grad(float *h, const double *p) {
  const float *qkv = h + (size_t)p[0], *pqkv = h + (size_t)p[1], *probs = h + (size_t)p[2], *da = h + (size_t)p[3];
  float *dqkv = h + (size_t)p[4], *dpqkv = h + (size_t)p[5];
  int B = (int)p[6], T = (int)p[7], H = (int)p[8], hd = (int)p[9], P = (int)p[10], G = (int)p[11];
  float scale = (float)p[12];
  const double *group = p + 13, *len = p + 13 + B;
  int D = H * hd, W = P + T, ld = 3 * D;
  if (P > 0) memset(dpqkv, 0, (size_t)G * P * ld * sizeof(float));
  /* dP, then dS in place, for one head at a time: [B*T, W]. */
  float *ds = malloc((size_t)B * T * W * sizeof(float));
  if (!ds) return;
  for (int hh = 0; hh < H; hh++) {
    const float *ph = probs + (size_t)hh * B * T * W;
    for (int b0 = 0, b1; b0 < B && P > 0; b0 = b1) {
      b1 = run_end(group, b0, B, P);
      int g = (int)group[b0], L = (int)len[g];
      const float *vp = pqkv + (size_t)g * P * ld + 2 * D + hh * hd;
      if (L > 0) sgemm(ROW_MAJOR, NO_TRANS, TRANS, (b1 - b0) * T, L, hd, 1.f, da + (size_t)b0 * T * D + hh * hd, D, vp, ld, 0.f, ds + (size_t)b0 * T * W, W);
    }
    for (int b = 0; b < B; b++) {
      int L = P > 0 ? (int)len[(int)group[b]] : 0;
      const float *q = qkv + (size_t)b * T * ld + hh * hd, *k = q + D, *v = q + 2 * D;
      const float *pr = ph + (size_t)b * T * W, *dA = da + (size_t)b * T * D + hh * hd;
      float *dsr0 = ds + (size_t)b * T * W;
      float *dq = dqkv + (size_t)b * T * ld + hh * hd, *dk = dq + D, *dv = dq + 2 * D;
      for (int r0 = 0; r0 < T; r0 += CAUSAL_BLOCK) {
        int r1 = r0 + CAUSAL_BLOCK < T ? r0 + CAUSAL_BLOCK : T;
        sgemm(ROW_MAJOR, NO_TRANS, TRANS, r1 - r0, r1, hd, 1.f, dA + (size_t)r0 * D, D, v, ld, 0.f, dsr0 + (size_t)r0 * W + P, W);
      }
      for (int i = 0; i < T; i++) {
        const float *pp = pr + (size_t)i * W, *ps = pp + P;
        float *dp = dsr0 + (size_t)i * W, *dsr = dp + P;
        float dot = 0.f;
        #pragma omp simd reduction(+ : dot)
        for (int j = 0; j < L; j++) dot += pp[j] * dp[j];
        #pragma omp simd reduction(+ : dot)
        for (int j = 0; j <= i; j++) dot += ps[j] * dsr[j];
        for (int j = 0; j < L; j++) dp[j] = pp[j] * (dp[j] - dot) * scale;
        for (int j = L; j < P; j++) dp[j] = 0.f;
        for (int j = 0; j <= i; j++) dsr[j] = ps[j] * (dsr[j] - dot) * scale;
        for (int j = i + 1; j < T; j++) dsr[j] = 0.f;
      }
      /* Own blocks last to first: the last one (all T columns) writes dK and dV, earlier ones
       * (fewer columns) add to them. */
      int last = (T - 1) / CAUSAL_BLOCK * CAUSAL_BLOCK;
      for (int r0 = last; r0 >= 0; r0 -= CAUSAL_BLOCK) {
        int r1 = r0 + CAUSAL_BLOCK < T ? r0 + CAUSAL_BLOCK : T, rows = r1 - r0;
        const float *dsb = dsr0 + (size_t)r0 * W + P, *pb = pr + (size_t)r0 * W + P;
        float first = r0 == last ? 0.f : 1.f;
        sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, hd, r1, 1.f, dsb, W, k, ld, 0.f, dq + (size_t)r0 * ld, ld);
        sgemm(ROW_MAJOR, TRANS, NO_TRANS, r1, hd, rows, 1.f, dsb, W, q + (size_t)r0 * ld, ld, first, dk, ld);
        sgemm(ROW_MAJOR, TRANS, NO_TRANS, r1, hd, rows, 1.f, pb, W, dA + (size_t)r0 * D, D, first, dv, ld);
      }
    }
    /* The prefix's share of dQ, and its dKp, dVp, once per run of rows. */
    for (int b0 = 0, b1; b0 < B && P > 0; b0 = b1) {
      b1 = run_end(group, b0, B, P);
      int g = (int)group[b0], L = (int)len[g], rows = (b1 - b0) * T;
      if (L == 0) continue;
      const float *kp = pqkv + (size_t)g * P * ld + D + hh * hd, *dsb = ds + (size_t)b0 * T * W, *pb = ph + (size_t)b0 * T * W;
      const float *q = qkv + (size_t)b0 * T * ld + hh * hd, *dA = da + (size_t)b0 * T * D + hh * hd;
      float *dkp = dpqkv + (size_t)g * P * ld + D + hh * hd, *dvp = dkp + D;
      sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, hd, L, 1.f, dsb, W, kp, ld, 1.f, dqkv + (size_t)b0 * T * ld + hh * hd, ld);
      sgemm(ROW_MAJOR, TRANS, NO_TRANS, L, hd, rows, 1.f, dsb, W, q, ld, 1.f, dkp, ld);
      sgemm(ROW_MAJOR, TRANS, NO_TRANS, L, hd, rows, 1.f, pb, W, dA, D, 1.f, dvp, ld);
    }
  }
  free(ds);
}

/* run(heap: ArrayBuffer, p: Float64Array): p[0] is the op, the rest its parameters (above). */
static napi_value run(napi_env env, napi_callback_info cb) {
  size_t argc = 2;
  napi_value argv[2];
  void *heap_data;
  size_t heap_bytes;
  napi_typedarray_type type;
  size_t count;
  void *pdata;
  CHECK(napi_get_cb_info(env, cb, &argc, argv, NULL, NULL));
  CHECK(napi_get_arraybuffer_info(env, argv[0], &heap_data, &heap_bytes));
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &count, &pdata, NULL, NULL));
  if (type != napi_float64_array || count < 1) {
    napi_throw_type_error(env, NULL, "run: parameters must be a Float64Array");
    return NULL;
  }
  const double *p = (const double *)pdata;
  float *h = (float *)heap_data;
  switch ((int)p[0]) {
    case OP_LOGPROBS: logprobs(h, p + 1); break;
    case OP_LOGPROBS_GRAD: logprobs_grad(h, p + 1); break;
    case OP_RMSNORM: rmsnorm(h, p + 1); break;
    case OP_RMSNORM_GRAD: rmsnorm_grad(h, p + 1); break;
    case OP_ADAM: adam(h, p + 1); break;
    case OP_SPLIT_HEADS: heads_copy(h, p + 1, 1); break;
    case OP_MERGE_HEADS: heads_copy(h, p + 1, 0); break;
    case OP_SUM_SQUARES: sum_squares(h, p + 1); break;
    case OP_SCATTER_ROWS: scatter_rows(h, p + 1); break;
    case OP_ATTENTION: attention(h, p + 1); break;
    case OP_ATTENTION_GRAD: attention_grad(h, p + 1); break;
    case OP_RELU: relu(h, p + 1); break;
    case OP_RELU_GRAD: relu_grad(h, p + 1); break;
    default: napi_throw_range_error(env, NULL, "run: unknown op"); return NULL;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  load_openblas();
  napi_property_descriptor props[] = {
      {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

#!/usr/bin/env bash
# Builds the kit's optional native kernels (native/kernels.c -> build/native/murphy_kernels.node):
# OpenBLAS matrix products on the tfjs wasm heap (src/model/native-kernels.ts explains why).
# Needs a C compiler and Node's headers (node_api.h); OpenBLAS itself is opened at run time.
# Quick when the module is newer than its source. Without a compiler or headers it says so and
# exits 0: the kit then runs on tfjs's own wasm kernels (slower, same results within rounding).
set -euo pipefail
cd "$(dirname "$0")/.."
src=native/kernels.c
out=build/native/murphy_kernels.node
[ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ] && exit 0
cc=$(command -v cc || command -v gcc || true)
headers=""
for dir in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  [ -f "$dir/node_api.h" ] && headers="$dir" && break
done
if [ -z "$cc" ] || [ -z "$headers" ]; then
  echo "[build-native] skipped: needs a C compiler and Node's headers (node_api.h); the kit uses tfjs's wasm kernels"
  exit 0
fi
mkdir -p build/native
# -march=native: the module is built on the machine that runs it (by scripts/setup.sh).
# -fopenmp-simd: honour the kernels' `omp simd reduction` loops (vectorised sums and maxima;
# no OpenMP runtime, no threads), which plain -O3 keeps scalar to preserve float summation order.
# -ffp-contract=fast: fused multiply-adds (-std=c11 alone turns them off). -fno-trapping-math:
# nothing here traps on float exceptions, and without it loops holding a comparison (max, the
# clamp in fexp) are not vectorised at all (8x slower). -fno-math-errno: sqrtf as one instruction
# (AdamW; nothing reads errno). None of these changes results beyond rounding.
"$cc" -O3 -march=native -fopenmp-simd -ffp-contract=fast -fno-trapping-math -fno-math-errno -shared -fPIC -std=c11 -Wall -Wextra -Wno-unused-parameter -I"$headers" "$src" -o "$out.tmp" -ldl -lm
mv "$out.tmp" "$out"
echo "[build-native] built $out"

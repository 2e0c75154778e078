#!/usr/bin/env bash
# What `npm run bench:train` needs besides the kit: Debian's PyTorch with OpenBLAS. Debian's
# python3-torch alone links the reference (unoptimised) BLAS; libopenblas0-pthread switches the
# libblas.so.3 alternative to OpenBLAS, which is what a researcher's PyTorch uses. Installs them
# as root; otherwise prints the apt-get line. bench/train.ts checks which BLAS torch loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
missing=()
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
ls /usr/lib/*-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 || missing+=(libopenblas0-pthread)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[setup-bench] installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[setup-bench] missing Debian packages: ${missing[*]} (run as root: apt-get install -y --no-install-recommends ${missing[*]})"
  exit 1
fi

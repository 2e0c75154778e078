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
bash scripts/apt-install.sh setup-bench ${missing[@]+"${missing[@]}"}

#!/usr/bin/env bash
# Installs whatever this kit needs and is missing; quick when everything is there.
# Called by `npm start` and `npm test` (as their pre-scripts) and by .ci/run.
#   - npm packages, from package-lock.json (npm ci), when node_modules is missing or stale;
#   - Debian's minimal Jupyter packages, when the project has notebooks;
#   - Debian's chromium, for the rendering check of reports and notebooks;
#   - Debian's bubblewrap (and python3), for the Python sandbox of the benchmarks (src/pysandbox/).
#   - Debian's OpenBLAS and the kit's native kernels (scripts/build-native.sh), the fast path of
#     training on the wasm backend (src/model/native-kernels.ts; optional: without them the kit
#     runs on tfjs's own wasm kernels).
# The optional GPU/native TensorFlow packages are allowed to fail (they download a binary from
# outside the npm registry); the kit then runs on wasm. See environment.md.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[setup] $*"; }

# 1. npm packages. npm records the installed tree in node_modules/.package-lock.json; when it is
#    older than package-lock.json (or missing), install from the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/isolated-vm/out/isolated_vm.node ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# 2. Debian packages, only as root (CI and these machines run as root) and only when missing.
apt_missing=()
if ls notebooks/*.ipynb >/dev/null 2>&1; then
  command -v jupyter-nbconvert >/dev/null 2>&1 || apt_missing+=(jupyter-nbconvert)
  /usr/bin/python3 -c 'import jupyter_client' >/dev/null 2>&1 || apt_missing+=(jupyter-client)
  /usr/bin/python3 -c 'import nbclient' >/dev/null 2>&1 || apt_missing+=(python3-nbclient)
  command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
fi
# The Python sandbox: bubblewrap for the namespaces; prlimit and setpriv come with util-linux.
command -v bwrap >/dev/null 2>&1 || apt_missing+=(bubblewrap)
[ -x /usr/bin/python3 ] || apt_missing+=(python3)
ls /usr/lib/*-linux-gnu/libopenblas.so.0 >/dev/null 2>&1 || apt_missing+=(libopenblas0-pthread)
bash scripts/apt-install.sh setup ${apt_missing[@]+"${apt_missing[@]}"}

# 3. The native kernels (quick when built).
bash scripts/build-native.sh

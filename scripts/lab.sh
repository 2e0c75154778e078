#!/usr/bin/env bash
# `npm run lab`: Jupyter (classic Notebook, from Debian) on notebooks/ with the kit's TypeScript
# kernel. The kernelspec is project-local (kernels/kernels/murphy-tslab): JUPYTER_PATH points there,
# so no global `tslab install` is needed and stale global kernelspecs are ignored. The kernel runs
# tslab from node_modules with the project root as its working directory (kernels/.../launch.js).
#   npm run lab                 # http://localhost:8888, token printed below
#   npm run lab -- --port 9999  # extra arguments go to jupyter notebook
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

if [ ! -f node_modules/tslab/dist/main.js ] || [ ! -d node_modules/@tensorflow/tfjs ]; then
  echo "[lab] npm packages missing: running scripts/setup.sh"
  bash scripts/setup.sh
fi
if ! command -v jupyter-notebook >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[lab] installing Debian's jupyter-notebook"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends jupyter-notebook >/dev/null
  else
    echo "[lab] Jupyter Notebook is missing; install it with: sudo apt-get install -y --no-install-recommends jupyter-notebook" >&2
    exit 1
  fi
fi

export JUPYTER_PATH="$root/kernels${JUPYTER_PATH:+:$JUPYTER_PATH}"
# Keep Jupyter's runtime and config files inside the project (gitignored), not in the home folder.
export JUPYTER_CONFIG_DIR="$root/.jupyter-local/config"
export JUPYTER_RUNTIME_DIR="$root/.jupyter-local/runtime"
mkdir -p "$JUPYTER_CONFIG_DIR" "$JUPYTER_RUNTIME_DIR"
extra=()
if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi
echo "[lab] kernel: TypeScript (MURPHY kit, tslab); notebooks: $root/notebooks"
exec jupyter-notebook --notebook-dir="$root/notebooks" --no-browser "${extra[@]}" "$@"

#!/usr/bin/env bash
# Install Debian packages that are missing, as root; otherwise print the apt-get line and fail.
# Used by scripts/setup.sh and scripts/setup-bench.sh:
#   bash scripts/apt-install.sh <tag> <package>...     (nothing to do without packages)
set -euo pipefail
tag=$1
shift
[ $# -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[$tag] installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
else
  echo "[$tag] missing Debian packages: $* (run as root: apt-get install -y --no-install-recommends $*)"
  exit 1
fi

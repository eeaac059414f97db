#!/usr/bin/env bash
# Configures, builds and installs conveyor into build/<type>/install. Usage: build.sh [Release|Debug] [cmake args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
type=${1:-Release}
shift || true
build="$root/build/${type,,}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DCMAKE_INSTALL_PREFIX="$build/install" "$@" >/dev/null
cmake --build "$build" -j2
cmake --install "$build" >/dev/null

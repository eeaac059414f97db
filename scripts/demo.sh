#!/usr/bin/env bash
# The main job: installs dependencies, builds and installs conveyor, builds the streaming demo
# against the installed package (find_package), and runs it on data it generates itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" Release -DCONVEYOR_BUILD_TESTS=OFF
demo="$root/build/release/stream_demo"
cmake -S "$root/samples/stream_demo" -B "$demo" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$root/build/release/install" >/dev/null
cmake --build "$demo" -j2 >/dev/null
"$demo/stream_demo" "$@"

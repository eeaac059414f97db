#!/usr/bin/env bash
# Builds conveyor and its C++ suite with a sanitizer (a preset of CMakePresets.json, into
# build/<preset>) and runs the suite under ctest with that preset's runtime options:
#   asan  AddressSanitizer (leaks included) + UndefinedBehaviorSanitizer; scripts/test.sh runs it
#   tsan  ThreadSanitizer, with tests/sanitizers/tsan.supp (Debian's oneTBB is not instrumented)
# Both build at -O1 with debug info; any report fails its test.
#
# UBSan's vptr check is off: oneTBB 2021.8's graph_task::destruct_and_deallocate (a header, so
# compiled into conveyor) casts each flow-graph task to its derived type after destroying it,
# which the check reports on every task, and UBSan cannot suppress a report on a destroyed object.
#
# Usage: scripts/sanitize.sh asan|tsan [ctest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:?usage: sanitize.sh asan|tsan [ctest args...]}
shift
case $preset in
  asan | tsan) ;;
  *) echo "sanitize.sh: unknown sanitizer '$preset' (asan or tsan)" >&2; exit 2 ;;
esac
cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"

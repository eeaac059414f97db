#!/usr/bin/env bash
# Builds conveyor and its C++ suite with a sanitizer (a preset of CMakePresets.json, into
# build/<preset>) and runs the suite under ctest with that preset's runtime options:
#   asan  AddressSanitizer (leaks included) + UndefinedBehaviorSanitizer; scripts/test.sh runs it
#   tsan  ThreadSanitizer, with tests/sanitizers/tsan.supp (Debian's oneTBB is not instrumented)
# Both build at -O1 with debug info; any report fails its test.
#   asan-python  the Python suite against an extension built with ASan + UBSan (pip-installed into
#                the venv build/asan-python/venv, Python's own packages shared), with the ASan
#                runtime (and libstdc++) preloaded into the uninstrumented interpreter and leak
#                checking off (the interpreter frees little at exit). Pytest arguments may follow.
#
# UBSan's vptr check is off: oneTBB 2021.8's graph_task::destruct_and_deallocate (a header, so
# compiled into conveyor) casts each flow-graph task to its derived type after destroying it,
# which the check reports on every task, and UBSan cannot suppress a report on a destroyed object.
# The tsan preset turns off g++ 12's -Wstringop-overflow: at -O1 with -fsanitize=thread it
# warns, wrongly, of a memset of 2^63 bytes inside std::fill in tests/cpp/ops/jpeg_window_test.cpp.
#
# Usage: scripts/sanitize.sh asan|tsan [ctest args...] | asan-python [pytest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:?usage: sanitize.sh asan|tsan [ctest args...] | asan-python [pytest args...]}
shift
cd "$root"
case $preset in
  asan | tsan) ;;
  asan-python)
    venv=$root/build/asan-python/venv
    [[ -x $venv/bin/python ]] || "${PYTHON:-python3}" -m venv --system-site-packages "$venv"
    flags="-O1 -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    "$venv/bin/pip" install --no-build-isolation -q -C build-dir="$root/build/asan-python/build" \
      -C cmake.build-type=Debug -C cmake.define.CMAKE_CXX_FLAGS="$flags" \
      -C cmake.define.CMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" "$root"
    # libstdc++ too: ASan finds the __cxa_throw it intercepts only in libraries loaded before it
    # starts, and the interpreter does not link libstdc++. An allocation too large to make
    # returns null, as without ASan: the tests expect NumPy's MemoryError for one.
    LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)" \
      ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      exec "$venv/bin/python" -m pytest -q tests/python "$@" ;;
  *) echo "sanitize.sh: unknown sanitizer '$preset' (asan, tsan or asan-python)" >&2; exit 2 ;;
esac
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"

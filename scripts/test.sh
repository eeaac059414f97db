#!/usr/bin/env bash
# Every test: installs dependencies, builds with warnings as errors (benchmarks included, so
# they keep compiling), runs the C++ suite under ctest (each test has a timeout), proves the
# installed C++ package works by building and running the demo and the C++ trainer sample
# against it with find_package, installs the Python package and runs the Python suite under
# pytest (the samples and every code block of the docs included); then runs the C++ suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer (scripts/sanitize.sh asan) and each
# fuzz target for 30 s (scripts/fuzz.sh). ThreadSanitizer is not run here: scripts/sanitize.sh tsan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" RelWithDebInfo -DCONVEYOR_WERROR=ON -DCONVEYOR_BUILD_TESTS=ON -DCONVEYOR_BUILD_BENCH=ON
build="$root/build/relwithdebinfo"
ctest --test-dir "$build" --output-on-failure --timeout 300 -j2  # as the asan preset runs it

# A sample that consumes the installed package with find_package: configured, built with
# warnings as errors, and run with `args`.
run_sample() {
  local name=$1
  shift
  rm -rf "$build/$name"
  cmake -S "$root/samples/$name" -B "$build/$name" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$build/install" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror" >/dev/null
  cmake --build "$build/$name" -j2 >/dev/null
  "$build/$name/$name" "$@"
}
run_sample stream_demo --rows 20000 --epochs 1
run_sample cpp_trainer --rows 4000 --epochs 3  # exits non-zero unless its loss falls

python=${PYTHON:-python3}
"$python" -m pip install --no-build-isolation -q "$root"
# CONVEYOR_INSTALL: test_docs.py compiles the docs' C++ blocks against this package.
cd "$root" && CONVEYOR_INSTALL="$build/install" "$python" -m pytest -q tests/python

"$root/scripts/sanitize.sh" asan
"$root/scripts/fuzz.sh" 30

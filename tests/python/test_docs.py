"""Every code block of docs/*.md and README.md runs, so the documentation cannot drift from the
code (doc_blocks.py says how blocks are found and marked).

* ```python: written to a file and run by this interpreter in a fresh process (so that worker
  processes can import it); must exit 0.
* ```cpp: compiled with g++ against the installed C++ package and run; must exit 0. A block
  without ``main()`` is a fragment: its ``#include`` lines go first and the rest becomes the
  body of ``main()``, after a ``use(...)`` that takes anything (the docs' placeholder for "do
  something with it"). The package is ``$CONVEYOR_INSTALL`` (scripts/test.sh sets it; then a
  missing package fails), else build/relwithdebinfo/install (skipped when absent).
* ```sh: commands, not run (they build and install); every script or sample path they name
  must exist, and every option they give conveyor-bench (or scripts/demo.sh, which passes its
  arguments on) must be one of its options.
* ```cmake: a project's lines, not run; each must be a line of a sample's CMakeLists.txt, which
  scripts/test.sh builds.
* ```text: output or layouts, not code.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from doc_blocks import Block, blocks

ROOT = Path(__file__).resolve().parents[2]
GUIDES = ["guide.md", "migrating.md", "cpp.md", "performance.md"]
DOCUMENTS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
ALL = [block for document in DOCUMENTS for block in blocks(document)]
LANGUAGES = {"python", "cpp", "sh", "cmake", "text"}
RUN_LIMIT_S = 60
COMPILE_LIMIT_S = 150


def of(language: str):
    return [pytest.param(b, id=b.name) for b in ALL if b.language == language]


def test_every_guide_exists_and_the_readme_links_it():
    readme = (ROOT / "README.md").read_text()
    for guide in GUIDES:
        assert (ROOT / "docs" / guide).is_file(), guide
        assert f"(docs/{guide})" in readme, f"README.md does not link docs/{guide}"


def test_every_block_has_a_known_language():
    unknown = [f"{b.name} ({b.language})" for b in ALL if b.language not in LANGUAGES]
    assert not unknown, f"blocks no test knows how to check: {unknown}"


@pytest.mark.time_limit(RUN_LIMIT_S + 10)
@pytest.mark.parametrize("block", of("python"))
def test_python_block_runs(block: Block, tmp_path):
    if block.skip:
        pytest.skip(block.skip)
    script = tmp_path / "block.py"
    script.write_text(block.program())
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=RUN_LIMIT_S)
    assert result.returncode == 0, f"{block.name} failed:\n{block.program()}\n{result.stdout}\n{result.stderr}"


def install_prefix() -> Path:
    given = os.environ.get("CONVEYOR_INSTALL")
    prefix = Path(given) if given else ROOT / "build" / "relwithdebinfo" / "install"
    if not (prefix / "include" / "conveyor" / "conveyor.hpp").is_file():
        if given:
            pytest.fail(f"CONVEYOR_INSTALL={given} holds no installed conveyor package")
        pytest.skip(f"no installed C++ package at {prefix}: run scripts/build.sh RelWithDebInfo")
    return prefix


def cpp_program(block: Block) -> str:
    """The block as a whole program: as it is when it has main(), else wrapped (see the module
    docstring)."""
    code = block.program()
    if re.search(r"\bint\s+main\s*\(", code):
        return code
    lines = code.splitlines()
    includes = [line for line in lines if line.startswith("#include")]
    body = [line for line in lines if not line.startswith("#include")]
    return "\n".join(includes + ["", "template <class... T>", "void use(const T&...) {}", "",
                                 "int main() {"] + ["  " + line for line in body] + ["  return 0;", "}", ""])


@pytest.mark.time_limit(COMPILE_LIMIT_S + RUN_LIMIT_S + 10)
@pytest.mark.parametrize("block", of("cpp"))
def test_cpp_block_compiles_and_runs(block: Block, tmp_path):
    if block.skip:
        pytest.skip(block.skip)
    prefix = install_prefix()
    libdir = next(p.parent for p in prefix.glob("lib*/**/libconveyor.a"))
    source, program = tmp_path / "block.cpp", tmp_path / "block"
    source.write_text(cpp_program(block))
    compile_command = ["g++", "-std=c++20", "-Wall", "-Wextra", "-Werror", "-I", str(prefix / "include"),
                       "-I/usr/include/opencv4", str(source), "-o", str(program), "-L", str(libdir),
                       "-lconveyor_ops", "-lconveyor", "-ltbb", "-ltbbmalloc", "-lopencv_imgcodecs", "-lopencv_imgproc",
                       "-lopencv_core", "-lturbojpeg", "-ljpeg", "-pthread"]
    compiled = subprocess.run(compile_command, capture_output=True, text=True, timeout=COMPILE_LIMIT_S)
    assert compiled.returncode == 0, f"{block.name} does not compile:\n{source.read_text()}\n{compiled.stderr}"
    ran = subprocess.run([str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=RUN_LIMIT_S)
    assert ran.returncode == 0, f"{block.name} failed:\n{ran.stdout}\n{ran.stderr}"


@pytest.fixture(scope="module")
def bench_options() -> set:
    helped = subprocess.run([sys.executable, "-m", "conveyor.bench", "--help"], capture_output=True, text=True,
                            timeout=RUN_LIMIT_S)
    assert helped.returncode == 0, helped.stderr
    return set(re.findall(r"--[a-z][\w-]*", helped.stdout))


@pytest.mark.parametrize("block", of("sh"))
def test_shell_block_names_what_exists(block: Block, bench_options):
    if block.skip:
        pytest.skip(block.skip)
    for line in block.code.splitlines():
        command = line.split("#")[0]
        for path in re.findall(r"(?<![\w/])(?:\./)?((?:scripts|samples|bench|docs|tests)/[\w./-]*\w)", command):
            assert (ROOT / path).exists(), f"{block.name}: {path} does not exist"
        if "conveyor-bench" in command or "demo.sh" in command:
            for option in re.findall(r"(?<!\S)(--[a-z][\w-]*)", command):
                assert option in bench_options, f"{block.name}: conveyor-bench has no {option}"


@pytest.mark.parametrize("block", of("cmake"))
def test_cmake_block_is_part_of_a_built_sample(block: Block):
    if block.skip:
        pytest.skip(block.skip)
    built = {line.strip() for path in (ROOT / "samples").glob("*/CMakeLists.txt") for line in path.read_text().splitlines()}
    for line in block.code.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            assert line.strip() in built, f"{block.name}: {line.strip()!r} is in no sample's CMakeLists.txt"

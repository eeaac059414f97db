"""Fenced code blocks of the Markdown documentation, for test_docs.py to run.

A block is the text between a line opening with three backticks and a language (```python,
```cpp, ```sh, ...) and the next line of three backticks. An HTML comment on the line right
above the fence can say how the block is tested:

* ``<!-- doc-test: continued -->``: the block runs after the block of the same language just
  before it (itself possibly continued), as one program: a guide's steps that build on each
  other.
* ``<!-- doc-test: skip: <reason> -->``: not run; the reason is shown in the test report. Keep
  these rare (a fragment that no harness can complete).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

_FENCE = re.compile(r"^```([\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*doc-test:\s*(continued|skip:\s*(?P<reason>.+?))\s*-->\s*$")


@dataclass
class Block:
    """One fenced block: where it is, its language, its code, and how it is tested."""

    path: Path
    line: int  # of the opening fence, from 1
    language: str
    code: str
    skip: Optional[str] = None  # the reason, for a block marked skip
    previous: Optional["Block"] = None  # the block a continued one runs after

    @property
    def name(self) -> str:
        return f"{self.path.name}:{self.line}"

    def program(self) -> str:
        """The code with that of the blocks it continues before it."""
        chain = []
        block: Optional[Block] = self
        while block is not None:
            chain.append(block.code)
            block = block.previous
        return "\n".join(reversed(chain))


def blocks(path: Path) -> List[Block]:
    """The fenced blocks of the Markdown file ``path``, in order. Raises ValueError for an
    unclosed fence, a marker not followed by a fence, a malformed marker, or a continued block
    with no block of its language before it."""
    lines = path.read_text().splitlines()
    found: List[Block] = []
    last_of: dict = {}
    marker: Optional[re.Match] = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("<!--") and "doc-test" in line:
            marker = _MARKER.match(line.strip())
            if marker is None:
                raise ValueError(f"{path}:{i + 1}: malformed doc-test marker: {line.strip()}")
            if i + 1 >= len(lines) or not _FENCE.match(lines[i + 1]) or not _FENCE.match(lines[i + 1]).group(1):
                raise ValueError(f"{path}:{i + 1}: a doc-test marker must stand right above a fenced block")
            i += 1
            continue
        opening = _FENCE.match(line)
        if opening is None or not opening.group(1):
            if opening is not None:
                raise ValueError(f"{path}:{i + 1}: a fenced block needs a language (```python, ```cpp, ```sh, ...)")
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{path}:{i + 1}: unclosed fenced block")
        block = Block(path, i + 1, opening.group(1), "\n".join(lines[i + 1:end]) + "\n")
        if marker is not None and marker.group("reason"):
            block.skip = marker.group("reason")
        elif marker is not None:
            block.previous = last_of.get(block.language)
            if block.previous is None:
                raise ValueError(f"{path}:{i + 1}: a continued block with no {block.language} block before it")
        found.append(block)
        last_of[block.language] = block
        marker = None
        i = end + 1
    return found

"""``python -m conveyor.bench``: the conveyor-bench command."""

import sys

from conveyor.bench.cli import main

if __name__ == "__main__":  # worker processes re-import the main module; they must not rerun it
    sys.exit(main())

"""conveyor-bench: data loading through conveyor and through torch's DataLoader, side by side.

Each workload (``py-small``, ``jpeg-aug``, ``py-heavy``, ``native``; one module each) builds
its data and a list of configurations, a loader at a setting; the runner reads one epoch of
each per round, interleaved, each after a warm-up of its own, measuring samples/s, time to
first batch, peak memory and CPU of the process tree; the summary, table and plot modules
report them.
Run it as ``conveyor-bench`` or ``python -m conveyor.bench`` (``--help`` lists the options).
torch is needed for the comparison; tqdm and matplotlib for the progress bar and the plot.
"""

from conveyor.bench.cli import main

__all__ = ["main"]

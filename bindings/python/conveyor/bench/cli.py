"""The ``conveyor-bench`` command line (also ``python -m conveyor.bench``)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from typing import Callable, Dict, List, Optional

WORKLOADS = ("py-small", "jpeg-aug", "py-heavy", "native")
DEFAULT_IMAGES = 1000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="conveyor-bench",
        description="Runs data-loading workloads through conveyor and through torch's DataLoader on the same "
                    "data, interleaved, and prints samples/s, MB/s, time to first batch, peak memory, CPU per "
                    "1,000 samples, the ratio between them and conveyor's stage profile.")
    p.add_argument("--workloads", default=None,
                   help=f"comma-separated, from {', '.join(WORKLOADS)} (default: all; jpeg-aug alone with --dataset)")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies every workload's sample count (default 1; e.g. 0.1 for a quick look); a "
                        "--dataset folder is read whole")
    p.add_argument("--images", type=int, default=None,
                   help=f"JPEGs jpeg-aug generates, before --scale (default {DEFAULT_IMAGES})")
    p.add_argument("--dataset", metavar="PATH",
                   help="run jpeg-aug on the images under PATH (recursively; labels from subfolder names)")
    p.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    p.add_argument("--plot", metavar="FILE.png", help="draw throughput per workload and worker count into FILE.png")
    return p


def _selected(args, parser) -> List[str]:
    if args.workloads is None:
        names = ["jpeg-aug"] if args.dataset else list(WORKLOADS)
    else:
        names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        parser.error(f"--workloads: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(WORKLOADS)}")
    if args.dataset and "jpeg-aug" not in names:
        parser.error("--dataset is the input of jpeg-aug, which --workloads leaves out")
    if args.images is not None and (args.dataset or "jpeg-aug" not in names):
        parser.error("--images is the count of generated JPEGs: it goes with jpeg-aug and without --dataset")
    return names


def _builders(args) -> Dict[str, Callable]:
    from conveyor.bench import images, jpeg_aug, native, py_heavy, py_small

    def scaled(count: int) -> int:
        return max(1, int(count * args.scale))

    def jpeg():
        found = images.scan(args.dataset) if args.dataset else images.generate(scaled(args.images or DEFAULT_IMAGES))
        return jpeg_aug.build(found)

    return {"py-small": lambda: py_small.build(scaled(py_small.DEFAULT_SAMPLES)),
            "jpeg-aug": jpeg,
            "py-heavy": lambda: py_heavy.build(scaled(py_heavy.DEFAULT_SAMPLES)),
            "native": lambda: native.build(scaled(native.DEFAULT_SAMPLES))}


def _machine() -> Dict[str, object]:
    import numpy as np
    import torch

    import conveyor

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "conveyor": conveyor.__version__, "nproc": os.cpu_count(), "platform": platform.platform(),
            "load_average_at_start": os.getloadavg()[0]}


def _measure(name: str, build: Callable, rounds: int) -> Dict[str, object]:
    """Builds workload ``name``, runs it under a progress bar (shown on a terminal) and returns
    its summary; nothing of the workload outlives the call (its data can be large)."""
    from tqdm import tqdm

    from conveyor.bench.runner import run_workload, steps
    from conveyor.bench.summary import summarize

    workload = build()
    try:
        with tqdm(total=steps(workload, rounds), desc=name, unit="step", leave=False, disable=None,
                  file=sys.stderr) as bar:
            def advance(label: str) -> None:
                bar.set_postfix_str(label)
                bar.update()

            return summarize(run_workload(workload, rounds, advance))
    finally:
        workload.close()


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the command with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    names = _selected(args, parser)
    # NumPy's BLAS threads would spin beside the loaders' own workers.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    from conveyor.bench.images import DatasetFolderError
    from conveyor.bench.runner import WorkloadError
    from conveyor.bench.table import workload_table

    machine = _machine()
    print(f"# conveyor-bench: {', '.join(names)}; python {machine['python']}, torch {machine['torch']}, "
          f"numpy {machine['numpy']}, conveyor {machine['conveyor']}; nproc {machine['nproc']}; "
          f"load average at start {machine['load_average_at_start']:.2f}\n", flush=True)
    started = time.perf_counter()
    builders = _builders(args)
    summaries = []
    for name in names:
        try:
            summary = _measure(name, builders[name], args.rounds)
        except (DatasetFolderError, ValueError) as error:
            print(f"conveyor-bench: {name}: {error}", file=sys.stderr)
            return 2
        except WorkloadError as error:
            print(f"conveyor-bench: {error}", file=sys.stderr)
            return 1
        summaries.append(summary)
        print(workload_table(summary), flush=True)
        gc.collect()  # the workload's data is gone before the next one is measured
    total = time.perf_counter() - started
    print(f"total {total:.0f} s; load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": ["conveyor-bench"] + list(sys.argv[1:] if argv is None else argv),
                       "machine": machine, "rounds": args.rounds, "total_s": total,
                       "load_average_at_end": os.getloadavg()[0], "workloads": summaries}, f, indent=1)
        print(f"wrote {args.json}")
    if args.plot:
        from conveyor.bench.plot import write_plot

        write_plot(summaries, args.plot)
        print(f"wrote {args.plot}")
    return 0

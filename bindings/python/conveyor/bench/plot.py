"""The plot: one panel per workload, samples/s against the worker count, a line per loader
(conveyor; torch with a fresh DataLoader per epoch; torch with persistent workers) and a dashed
line per bound. The scale is logarithmic: bounds can be orders of magnitude above the
loaders."""

from __future__ import annotations

from typing import Any, Dict, List


def write_plot(summaries: List[Dict[str, Any]], path: str) -> None:
    """Draws ``summaries`` (conveyor.bench.summary.summarize) into the PNG file ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    columns = min(len(summaries), 2)
    rows = -(-len(summaries) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4 * rows), squeeze=False)
    for ax in axes.flat[len(summaries):]:
        ax.set_visible(False)
    for ax, summary in zip(axes.flat, summaries):
        lines: Dict[str, List] = {}
        for c in summary["configs"]:
            name = c["side"] + (" persistent" if "persistent" in c["setting"] else "")
            lines.setdefault(name, []).append((c["workers"], c["samples_per_s"], c["samples_per_s_min"],
                                               c["samples_per_s_max"]))
        for name, points in lines.items():
            points.sort()
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            err = [[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]]
            ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=name)
        for b in summary["bounds"]:
            ax.axhline(b["samples_per_s"], linestyle="--", linewidth=1, color="grey")
            ax.annotate(b["name"], (0.01, b["samples_per_s"]), xycoords=("axes fraction", "data"), fontsize=6,
                        va="bottom", color="dimgrey")
        ax.set_title(summary["name"])
        ax.set_xlabel("workers")
        ax.set_xticks([0, 1, 2])
        ax.set_ylabel("samples/s (log scale)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.suptitle("conveyor-bench: throughput (median, bars min–max)")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)

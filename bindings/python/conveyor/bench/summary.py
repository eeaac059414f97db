"""Figures derived from a run: per configuration the median rate and its spread, MB/s, time to
first batch, peak memory, CPU per 1,000 samples, the ratio to torch's best, and the stage
profile; per workload each side's best setting. Plain dicts, so that the table, the JSON file
and the plot read the same numbers.
"""

from __future__ import annotations

import statistics
from typing import Any, Dict, List, Optional

from conveyor.bench.runner import EpochResult, WorkloadResult
from conveyor.bench.workload import CONVEYOR, TORCH


def stage_profile(stats: List[dict], seconds: float) -> Dict[str, Any]:
    """Each stage's rows and its share of the epoch's wall time (summed over its workers, so
    divided by them) spent busy, blocked on input and blocked on output, in percent; and the
    bottleneck: the stage with the largest busy share."""
    stages = []
    for s in stats:
        capacity = max(s["workers"], 1) * seconds
        stages.append({"name": s["name"], "workers": s["workers"], "rows": s["rows"],
                       "busy_pct": 100 * s["busy_s"] / capacity,
                       "blocked_input_pct": 100 * s["wait_input_s"] / capacity,
                       "blocked_output_pct": 100 * s["wait_output_s"] / capacity})
    bottleneck = max(stages, key=lambda s: s["busy_pct"])["name"] if stages else None
    return {"stages": stages, "bottleneck": bottleneck}


def _epoch_dict(e: EpochResult) -> Dict[str, Any]:
    return {"samples": e.samples, "seconds": e.seconds, "samples_per_s": e.rate, "first_batch_s": e.first_batch_s,
            "peak_rss_bytes": e.peak_rss, "cpu_s": e.cpu_s}


def summarize(result: WorkloadResult) -> Dict[str, Any]:
    """The figures of one workload's run (see the module docstring)."""
    workload = result.workload
    configs = []
    for config in workload.configs:
        epochs = result.epochs[config.label]
        rates = [e.rate for e in epochs]
        median = statistics.median(rates)
        last = epochs[-1]
        profile = stage_profile(last.stats, last.seconds) if last.stats else None
        configs.append({
            "label": config.label, "side": config.side, "workers": config.workers, "setting": config.setting,
            "samples_per_s": median, "samples_per_s_min": min(rates), "samples_per_s_max": max(rates),
            "mb_per_s": median * workload.bytes_per_sample / 1e6,
            "first_batch_s": statistics.median(e.first_batch_s for e in epochs),
            "peak_rss_bytes": max(e.peak_rss for e in epochs),
            "cpu_s_per_1000": statistics.median(1000 * e.cpu_s / e.samples for e in epochs),
            "epochs": [_epoch_dict(e) for e in epochs],
            "profile": profile,
        })

    def best(side: str) -> Optional[Dict[str, Any]]:
        rows = [c for c in configs if c["side"] == side]
        return max(rows, key=lambda c: c["samples_per_s"]) if rows else None

    best_conveyor, best_torch = best(CONVEYOR), best(TORCH)
    for c in configs:
        c["ratio_to_torch_best"] = c["samples_per_s"] / best_torch["samples_per_s"] if best_torch else None
    bounds = []
    for bound in workload.bounds:
        rates = result.bounds[bound.name]
        median = statistics.median(rates)
        bounds.append({"name": bound.name, "samples_per_s": median, "samples_per_s_min": min(rates),
                       "samples_per_s_max": max(rates), "mb_per_s": median * workload.bytes_per_sample / 1e6,
                       "conveyor_best_pct": 100 * best_conveyor["samples_per_s"] / median if best_conveyor else None})
    return {
        "name": workload.name, "description": workload.description, "notes": list(workload.notes),
        "samples_per_epoch": workload.samples_per_epoch, "bytes_per_sample": workload.bytes_per_sample,
        "rounds": len(next(iter(result.epochs.values()))),
        "configs": configs, "bounds": bounds,
        "best": {"conveyor": best_conveyor["label"] if best_conveyor else None,
                 "torch": best_torch["label"] if best_torch else None,
                 "ratio": (best_conveyor["samples_per_s"] / best_torch["samples_per_s"]
                           if best_conveyor and best_torch else None)},
    }

"""The text report: per workload a Markdown table of every configuration and bound, the
best-vs-best line, and each conveyor configuration's stage profile."""

from __future__ import annotations

from typing import Any, Dict, List


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _ratio(value) -> str:
    return "—" if value is None else f"{value:.2f}×"


def workload_table(summary: Dict[str, Any]) -> str:
    """The report of one summarized workload (conveyor.bench.summary.summarize)."""
    lines: List[str] = [f"## {summary['name']}: {summary['description']}", ""]
    lines += [f"- {note}" for note in summary["notes"]]
    if summary["notes"]:
        lines.append("")
    lines += [f"{summary['rounds']} measured rounds of one epoch ({summary['samples_per_epoch']:,} samples) per "
              f"configuration, each after a warm-up (its first batches from another iterator; none where the "
              f"workers start with each epoch); medians, spread min–max, peak RSS the largest seen.", ""]
    lines.append("| loader | setting | samples/s | spread | MB/s | first batch | peak RSS (tree) | CPU s / 1k samples "
                 "| conveyor / torch's best |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for c in summary["configs"]:
        ratio = _ratio(c["ratio_to_torch_best"]) if c["side"] == "conveyor" else "—"
        lines.append(f"| {c['side']} | {c['setting']} | {_rate(c['samples_per_s'])} | "
                     f"{_rate(c['samples_per_s_min'])}–{_rate(c['samples_per_s_max'])} | {c['mb_per_s']:,.0f} | "
                     f"{c['first_batch_s'] * 1000:.0f} ms | {c['peak_rss_bytes'] / 2**20:,.0f} MiB | "
                     f"{c['cpu_s_per_1000']:.3f} | {ratio} |")
    for b in summary["bounds"]:
        lines.append(f"| bound | {b['name']} | {_rate(b['samples_per_s'])} | "
                     f"{_rate(b['samples_per_s_min'])}–{_rate(b['samples_per_s_max'])} | {b['mb_per_s']:,.0f} | "
                     f"| | | conveyor's best: {b['conveyor_best_pct']:.0f} % |")
    lines.append("")
    best = summary["best"]
    if best["torch"] is not None:
        lines.append(f"Best vs best: {best['conveyor']} / {best['torch']} = **{_ratio(best['ratio'])}**"
                     + (" (torch is faster here)" if best["ratio"] < 1 else ""))
    else:
        lines.append(f"Best: {best['conveyor']} (torch has no counterpart: a DataLoader always calls Python)")
    for c in summary["configs"]:
        profile = c["profile"]
        if not profile:
            continue
        lines += ["", f"Stage profile, {c['label']} (last round; % of the epoch's wall time per worker):", "",
                  "| stage | workers | rows | busy | blocked on input | blocked on output |",
                  "|---|---|---|---|---|---|"]
        for s in profile["stages"]:
            lines.append(f"| {s['name']} | {s['workers']} | {s['rows']:,} | {s['busy_pct']:.0f} % | "
                         f"{s['blocked_input_pct']:.0f} % | {s['blocked_output_pct']:.0f} % |")
        lines.append(f"\nBottleneck: **{profile['bottleneck']}**")
    return "\n".join(lines) + "\n"

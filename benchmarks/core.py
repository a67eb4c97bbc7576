"""softmax, log_softmax and entropy against scipy.special and PyTorch on the CPU, as ratios (ours / theirs).

Shapes (1, 3), (4096, 1000) and (64, 152064), float32; medians of interleaved runs in one process.

    python -m benchmarks.core [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics

import numpy as np
import scipy.special
import scipy.stats

import logitsviz as lv
from benchmarks._timing import median_time

SHAPES = [(1, 3), (4096, 1000), (64, 152064)]
# issue 8's targets: (case, measure) -> the largest ratio that meets it
TARGETS = {
    ("softmax (64, 152064)", "ratio_to_torch"): 1.0,
    ("softmax (64, 152064)", "ratio_to_scipy"): 0.6,
    ("log_softmax (64, 152064)", "ratio_to_torch"): 1.0,
    ("softmax (1, 3)", "ratio_to_plain_numpy"): 2.0,
}


def minor_faults() -> int:
    """Minor page faults of this process so far (each maps one fresh page of memory)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    try:
        import torch

        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        torch = None
        torch_info = None

    rng = np.random.default_rng(0)
    out = {}
    for shape in SHAPES:
        z = (rng.standard_normal(shape) * 3).astype(np.float32)
        repeats = args.repeats if z.size > 100 else args.repeats * 100
        tz = torch.from_numpy(z) if torch is not None else None
        cases = {
            "softmax": (lambda: lv.softmax(z), lambda: scipy.special.softmax(z, axis=-1),
                        (lambda: torch.softmax(tz, dim=-1)) if tz is not None else None,
                        lambda: np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)),
            "log_softmax": (lambda: lv.log_softmax(z), lambda: scipy.special.log_softmax(z, axis=-1),
                            (lambda: torch.log_softmax(tz, dim=-1)) if tz is not None else None, None),
            "entropy": (lambda: lv.entropy(z), lambda: scipy.stats.entropy(scipy.special.softmax(z, axis=-1), axis=-1),
                        (lambda: torch.distributions.Categorical(logits=tz).entropy()) if tz is not None else None, None),
        }
        for name, (ours, scipy_fn, torch_fn, plain) in cases.items():
            contenders = {"ours": ours, "scipy": scipy_fn, "torch": torch_fn, "plain": plain}
            contenders = {k: fn for k, fn in contenders.items() if fn is not None}
            times: dict[str, list[float]] = {k: [] for k in contenders}
            faults: dict[str, list[float]] = {k: [] for k in contenders}
            calls = max(1, repeats // 5)
            for _ in range(5):  # interleave: each round times every contender once
                for k, fn in contenders.items():
                    before = minor_faults()
                    times[k].append(median_time(fn, calls, warm_up=True))
                    faults[k].append((minor_faults() - before) / (calls + 1))
            med = {k: statistics.median(v) for k, v in times.items()}
            row = {"ours_s": med["ours"]}
            row["ratio_to_scipy"] = round(med["ours"] / med["scipy"], 3)
            if "torch" in med:
                row["ratio_to_torch"] = round(med["ours"] / med["torch"], 3)
            if "plain" in med:
                row["ratio_to_plain_numpy"] = round(med["ours"] / med["plain"], 3)
            row["median_ms"] = {k: round(1e3 * v, 3) for k, v in med.items()}
            # fresh output pages the kernel had to map, per call: a large share of the time at (64, 152064)
            row["page_faults_per_call"] = {k: round(statistics.median(v)) for k, v in faults.items()}
            key = f"{name} {shape}"
            targets = {measure: limit for (case, measure), limit in TARGETS.items() if case == key and measure in row}
            if targets:
                row["targets"] = targets
                row["targets_met"] = all(row[measure] <= limit for measure, limit in targets.items())
            out[key] = row
    print(json.dumps({"benchmark": "core", "torch": torch_info, "results": out}, indent=2))


if __name__ == "__main__":
    main()

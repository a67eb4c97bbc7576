"""softmax, log_softmax, entropy and sampling.sample over a grid of shapes people meet, against PyTorch and scipy.

    python -m benchmarks.grid [--rounds 5] [--dtypes float32 float64] [--quick]

Shapes: one and eight rows of the vocabularies of Llama 2 (32,000), GPT-2
(50,257), Qwen 2 (151,936) and Gemma 3 (262,144); a 64-row batch of Qwen's;
256 x 32,000; 4,096 x 1,000 (ImageNet-sized classes); 100,000 x 10. Every
contender is timed warm (one untimed call first) and interleaved with the
others round by round in one process; a case's figure is the median of its
rounds. PyTorch runs with its default threads on the CPU; scipy's reference
for ``sample`` is ``scipy.special.softmax`` then one ``Generator.choice``-like
inverse-CDF draw per row (scipy has no categorical sampler), and PyTorch's is
``torch.multinomial(torch.softmax(z), 1)``. Prints one line per case, then the
geometric mean and the worst case of our time over PyTorch's, as JSON last.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics

import numpy as np
import scipy.special
import scipy.stats

import logitsviz as lv
from benchmarks._timing import median_time
from logitsviz import sampling

VOCABS = (32_000, 50_257, 151_936, 262_144)
SHAPES = [(r, v) for v in VOCABS for r in (1, 8)] + [(64, 152_064), (256, 32_000), (4096, 1000), (100_000, 10)]
FUNCTIONS = ("softmax", "log_softmax", "entropy", "sample")


def _scipy_sample(z: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    p = scipy.special.softmax(z, axis=-1)
    cdf = np.cumsum(p, axis=-1)
    u = gen.random((z.shape[0], 1))
    return (cdf < u * cdf[:, -1:]).sum(axis=-1)


def contenders(name: str, z: np.ndarray, torch):
    tz = torch.from_numpy(z) if torch is not None else None
    gen = np.random.default_rng(0)
    tgen = torch.Generator().manual_seed(0) if torch is not None else None
    if name == "softmax":
        return {"ours": lambda: lv.softmax(z), "scipy": lambda: scipy.special.softmax(z, axis=-1),
                "torch": (lambda: torch.softmax(tz, dim=-1)) if tz is not None else None}
    if name == "log_softmax":
        return {"ours": lambda: lv.log_softmax(z), "scipy": lambda: scipy.special.log_softmax(z, axis=-1),
                "torch": (lambda: torch.log_softmax(tz, dim=-1)) if tz is not None else None}
    if name == "entropy":  # PyTorch's quickest: -(p log p) by its fused special.entr on the softmax
        return {"ours": lambda: lv.entropy(z), "scipy": lambda: scipy.stats.entropy(scipy.special.softmax(z, axis=-1), axis=-1),
                "torch": (lambda: torch.special.entr(torch.softmax(tz, dim=-1)).sum(-1)) if tz is not None else None}
    return {"ours": lambda: sampling.sample(z, 1, rng=gen), "scipy": lambda: _scipy_sample(z, gen),
            "torch": (lambda: torch.multinomial(torch.softmax(tz, dim=-1), 1, generator=tgen)) if tz is not None else None}


def measure(z: np.ndarray, name: str, torch, rounds: int) -> dict[str, float]:
    fns = {k: fn for k, fn in contenders(name, z, torch).items() if fn is not None}
    calls = max(3, min(200, int(2e7 / max(z.size, 1))))  # about 0.1 s of work per contender per round
    runs: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):  # interleaved: a noisy moment hits every contender alike
        for k, fn in fns.items():
            runs[k].append(median_time(fn, calls, warm_up=True))  # warm: the first call pays for lazy set-up
    return {k: statistics.median(v) for k, v in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS))
    parser.add_argument("--quick", action="store_true", help="one round, float32 only (a smoke run)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    if args.quick:
        args.rounds, args.dtypes = 1, ["float32"]
    rng = np.random.default_rng(0)
    cases = []
    print(f"{'function':<12}{'dtype':<9}{'shape':<16}{'ours ms':>10}{'torch ms':>10}{'scipy ms':>10}{'vs torch':>10}{'vs scipy':>10}",
          flush=True)
    for dtype in args.dtypes:
        for shape in SHAPES:
            z = (rng.standard_normal(shape) * 3).astype(dtype)
            for name in args.functions:
                t = measure(z, name, torch, args.rounds)
                case = {"function": name, "dtype": dtype, "shape": list(shape), "ours_ms": 1e3 * t["ours"], "scipy_ms": 1e3 * t["scipy"],
                        "vs_scipy": t["ours"] / t["scipy"]}
                if "torch" in t:
                    case.update(torch_ms=1e3 * t["torch"], vs_torch=t["ours"] / t["torch"])
                cases.append(case)
                print(f"{name:<12}{dtype:<9}{shape!s:<16}{case['ours_ms']:>10.3f}{case.get('torch_ms', math.nan):>10.3f}"
                      f"{case['scipy_ms']:>10.3f}{case.get('vs_torch', math.nan):>10.2f}{case['vs_scipy']:>10.2f}", flush=True)
    summary = {"cases": len(cases)}
    for other in ("torch", "scipy"):
        ratios = [c[f"vs_{other}"] for c in cases if f"vs_{other}" in c]
        if ratios:
            worst = max(cases, key=lambda c: c.get(f"vs_{other}", 0))
            summary[other] = {"geometric_mean": math.exp(statistics.fmean(math.log(r) for r in ratios)), "worst": max(ratios),
                              "worst_case": f"{worst['function']} {worst['dtype']} {tuple(worst['shape'])}"}
            print(f"vs {other}: geometric mean {summary[other]['geometric_mean']:.2f}, worst {summary[other]['worst']:.2f} "
                  f"({summary[other]['worst_case']})")
    try:
        summary["torch_threads"] = torch.get_num_threads() if torch is not None else None
    except Exception:  # pragma: no cover
        pass
    print(json.dumps({"summary": summary, "cases": cases}))


if __name__ == "__main__":
    main()

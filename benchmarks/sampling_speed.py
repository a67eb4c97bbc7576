"""Sampling and filter speed on a 200,000-token vocabulary, beside numpy's own sampler.

    python -m benchmarks.sampling_speed
"""

from __future__ import annotations

import json

import numpy as np

from benchmarks._timing import median_time
from logitsviz import sampling, softmax


def main() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 200_000)
    p = softmax(z)
    results = {
        "sample_100k_from_200k_s": median_time(lambda: sampling.sample(z, 100_000, rng=1)),
        "numpy_choice_100k_from_200k_s": median_time(lambda: np.random.default_rng(1).choice(z.size, 100_000, p=p)),
    }
    for name, value in [("top_k", 50), ("top_p", 0.9), ("min_p", 0.05), ("typical_p", 0.9), ("epsilon", 3e-4), ("eta", 2e-3), ("top_n_sigma", 1.0)]:
        results[f"{name}_200k_s"] = median_time(lambda name=name, value=value: sampling.FILTERS[name](value)(z))
    print(json.dumps({"benchmark": "sampling_speed", "results": {k: round(v, 5) for k, v in results.items()}}, indent=2))


if __name__ == "__main__":
    main()

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
    # DRY over a long history: linear (llama.cpp's Z-algorithm); the plain definition (for each earlier position, walk back
    # while it matches) is quadratic: timed at 10,000 tokens, where it still finishes
    vocab = np.zeros(32_000, dtype=np.float32)
    text = rng.integers(0, 500, 100_000).tolist()  # a long prompt of ordinary tokens
    same = [7] * 100_000  # the worst case: one token repeated, every position matching as far back as it can
    results["dry_100k_history_s"] = median_time(lambda: sampling.dry(vocab, text, multiplier=0.8))
    results["dry_100k_one_token_repeated_s"] = median_time(lambda: sampling.dry(vocab, same, multiplier=0.8))
    results["dry_quadratic_definition_10k_one_token_repeated_s"] = median_time(lambda: _quadratic_dry(same[:10_000]), repeats=1)
    print(json.dumps({"benchmark": "sampling_speed", "results": {k: round(v, 5) for k, v in results.items()}}, indent=2))


def _quadratic_dry(w: list[int], allowed: int = 2) -> dict[int, int]:
    """The definition DRY's docstring states, written out: O(n²) in the history (what logitsviz ran before)."""
    n, longest = len(w), {}
    for i in range(n - 1):
        length = 0
        while length <= i and w[i - length] == w[n - 1 - length]:
            length += 1
        if length >= allowed:
            longest[w[i + 1]] = max(longest.get(w[i + 1], 0), length)
    return longest


if __name__ == "__main__":
    main()

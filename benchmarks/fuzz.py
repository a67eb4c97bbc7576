"""Hostile input at volume: thousands of mutated documents per response format and settings per sampler, timed.

Each case must end in ``InputError`` or a sane result (the tests in
tests/test_fuzz_readers.py check the same on fewer cases); this prints how many
ran, how many of each outcome, anything else that escaped, and the slowest case.

    python -m benchmarks.fuzz [--cases 2000]
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import time

import numpy as np

from logitsviz import InputError, inputs, sampling, tokens
from tests.logprob_fixtures import ALL, paths
from tests.logprob_fixtures import mutate as mutate_place

VALUES = [None, True, False, 0, -1, 1, 256, 1e308, -1e308, float("nan"), float("inf"), -9999.0, 5e-324, "", "x", "-0.5",
          [], [1, 2], {}, {"a": 1}, [[None]], "🐱", -0.0, 2**70]


def mutate(doc, rng: random.Random):
    """One to three random changes: a place replaced by a hostile value, deleted, or wrapped in a list."""
    for _ in range(rng.randint(1, 3)):
        places = list(paths(doc))
        if not places:
            break
        place = rng.choice(places)  # drawn in this order (place, action, value): the same cases for a seed as before
        action = rng.choice(["replace", "replace", "delete", "wrap"])
        doc = mutate_place(doc, place, action, rng.choice(VALUES) if action == "replace" else None)
    return doc


def run(label: str, cases, call) -> dict:
    outcomes = {"ok": 0, "InputError": 0}
    escaped, slowest = [], (0.0, None)
    for case in cases:
        start = time.perf_counter()
        try:
            call(case)
            outcomes["ok"] += 1
        except InputError:
            outcomes["InputError"] += 1
        except Exception as exc:  # the thing this benchmark looks for
            escaped.append(f"{type(exc).__name__}: {str(exc)[:80]}")
        elapsed = time.perf_counter() - start
        if elapsed > slowest[0]:
            slowest = (elapsed, repr(case)[:120])
    return {"what": label, "cases": len(cases), **outcomes, "escaped": escaped[:5], "escaped_count": len(escaped),
            "slowest_ms": round(1000 * slowest[0], 2), "slowest_case": slowest[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(0)
    results = []
    docs = {name: doc for name, (doc, _) in ALL.items() if not isinstance(doc, str)}
    for name, doc in sorted(docs.items()):
        cases = [json.dumps(mutate(doc, rng), allow_nan=True, ensure_ascii=False) for _ in range(args.cases)]
        results.append(run(f"tokens.read_logprobs: {name}", cases, tokens.read_logprobs))
    logits = [np.array([0.3, 1.0, -2.0]), np.array([1e300, -1e300, 0.0]), np.array([-np.inf, 0.0, 1.0]),
              np.random.default_rng(0).normal(size=(2, 50)).astype(np.float32), np.zeros(50_000, dtype=np.float32)]
    settings = [*VALUES, 0.5, 0.9, 40, 1e-300, 1e39, tuple(range(40)), tuple(rng.randrange(50) for _ in range(100_000))]
    for _name, cls in sorted(sampling.FILTERS.items()):
        params = list(inspect.signature(cls).parameters)
        cases = [({p: rng.choice(settings) if p != "rng" else rng.choice([None, 0, 7]) for p in params}, rng.choice(logits))
                 for _ in range(args.cases)]
        results.append(run(f"sampling.{cls.__name__}", cases, lambda case, cls=cls: cls(**case[0])(case[1])))
    names = ["a.npy", "a.npz", "a.csv", "a.tsv", "a.json", "a.txt"]
    blobs = [(bytes(rng.randrange(256) for _ in range(rng.randrange(400))), rng.choice(names)) for _ in range(args.cases)]
    results.append(run("inputs.load_array (random bytes)", blobs, lambda case: inputs.load_array(*case)))
    texts = ["[" * rng.randrange(1, 40) + ",".join(str(rng.uniform(-9, 9)) for _ in range(rng.randrange(30))) for _ in range(args.cases)]
    results.append(run("inputs.parse_logits (cut prints)", texts, inputs.parse_logits))
    total = sum(r["cases"] for r in results)
    print(json.dumps({"benchmark": "fuzz", "cases": total, "escaped": sum(r["escaped_count"] for r in results),
                      "slowest_ms": max(r["slowest_ms"] for r in results), "results": results}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""ECE + fit_temperature on 100,000 x 1,000 float32 logits, as a multiple of one scipy softmax pass (and of one warm pass).

    python -m benchmarks.calibration_speed [--rows 100000] [--cols 1000]

Every contender is called once untimed, then timed in interleaved rounds; medians. scipy.special.softmax
returns a fresh 400 MB array each call, whose pages the kernel maps on first touch (the page faults per call are
printed): so a softmax pass into memory already mapped is timed too, and the ratio to it says how many passes over
the logits ECE plus the temperature fit cost.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc

import numpy as np
import scipy.special

from logitsviz import calibration


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def timed(fn) -> tuple[float, float]:
    """``(seconds, minor page faults)`` of one call: each fault maps a fresh 4 KiB page of output memory."""
    before, start = faults(), time.perf_counter()
    fn()
    return time.perf_counter() - start, faults() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    z = rng.standard_normal((args.rows, args.cols), dtype=np.float32) * 2
    z[np.arange(args.rows), rng.integers(0, args.cols, args.rows)] += 6  # a confident, imperfect model
    y = np.where(rng.random(args.rows) < 0.8, np.argmax(z, axis=1), rng.integers(0, args.cols, args.rows))

    buffer = np.empty_like(z)

    def warm_softmax():  # scipy's arithmetic into memory already mapped: what a pass over the array costs
        np.subtract(z, z.max(axis=1, keepdims=True), out=buffer)
        np.exp(buffer, out=buffer)
        np.divide(buffer, buffer.sum(axis=1, keepdims=True), out=buffer)

    contenders = {"scipy": lambda: scipy.special.softmax(z, axis=1), "warm": warm_softmax,
                  "ours": lambda: (calibration.expected_calibration_error(z, y), calibration.fit_temperature(z, y))}
    for fn in contenders.values():
        fn()  # warm: every contender's first call is not timed
    runs = {k: [] for k in contenders}
    for _ in range(args.repeats):  # interleaved, so machine noise hits all alike
        for k, fn in contenders.items():
            runs[k].append(timed(fn))
    scipy_times, ours_times = [r[0] for r in runs["scipy"]], [r[0] for r in runs["ours"]]
    warm_time = statistics.median(r[0] for r in runs["warm"])
    tracemalloc.start()
    ece, temperature = calibration.expected_calibration_error(z, y), calibration.fit_temperature(z, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    s, o = statistics.median(scipy_times), statistics.median(ours_times)
    print(json.dumps({
        "benchmark": "calibration_speed",
        "shape": [args.rows, args.cols],
        "scipy_softmax_s": round(s, 3),
        "ece_plus_fit_temperature_s": round(o, 3),
        "ratio": round(o / s, 2),
        "scipy_softmax_page_faults_per_call": int(statistics.median(r[1] for r in runs["scipy"])),
        "softmax_pass_into_mapped_memory_s": round(warm_time, 3),
        "ratio_to_one_warm_pass": round(o / warm_time, 2),
        "target_ratio": 12,
        "peak_extra_memory_as_input_copies": round(peak / z.nbytes, 2),
        "ece": round(ece, 4),
        "fitted_temperature": round(temperature, 4),
    }, indent=2))


if __name__ == "__main__":
    main()

"""ECE + fit_temperature on 100,000 x 1,000 float32 logits, as a multiple of one scipy softmax pass.

    python -m benchmarks.calibration_speed [--rows 100000] [--cols 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc

import numpy as np
import scipy.special

from logitsviz import calibration


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    z = rng.standard_normal((args.rows, args.cols), dtype=np.float32) * 2
    z[np.arange(args.rows), rng.integers(0, args.cols, args.rows)] += 6  # a confident, imperfect model
    y = np.where(rng.random(args.rows) < 0.8, np.argmax(z, axis=1), rng.integers(0, args.cols, args.rows))

    scipy_times, ours_times = [], []
    for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
        scipy_times.append(timed(lambda: scipy.special.softmax(z, axis=1))[0])
        ours_times.append(timed(lambda: (calibration.expected_calibration_error(z, y), calibration.fit_temperature(z, y)))[0])
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
        "target_ratio": 12,
        "peak_extra_memory_as_input_copies": round(peak / z.nbytes, 2),
        "ece": round(ece, 4),
        "fitted_temperature": round(temperature, 4),
    }, indent=2))


if __name__ == "__main__":
    main()

"""Every calibration metric and the temperature fit over a memory-mapped float32 file larger than memory allows.

    python -m benchmarks.calibration_out_of_memory [--gb 20] [--classes 1000] [--path FILE] [--keep]

Writes (once, then reuses) a ``.npy`` of ``gb`` GB of float32 logits whose
labels are drawn from ``softmax(logits / 1.5)`` (so the fitted temperature
should come out near 1.5), then, in a fresh child process, runs
``calibration.summarize`` at T = 1 (every metric, classwise ones included),
``calibration.fit_temperature`` and ``summarize`` at the fitted T, and prints
the wall time of each, the rows per second and the child's peak resident
memory (VmHWM, which counts the file's mapped pages as they are touched).

Not part of ``python -m benchmarks``: it needs ``gb`` GB of free disk and
minutes. If the file fits in the page cache (free RAM), reads come from it,
not the disk: the figures then measure computing, not I/O; the page cache is
the kernel's and is not the process's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TRUE_T = 1.5

CHILD = """
import json, sys, time
import numpy as np
from logitsviz import calibration

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

path, labels_path = sys.argv[1], sys.argv[2]
z = np.load(path, mmap_mode="r")
y = np.load(labels_path, mmap_mode="r")
out = {"rows": z.shape[0], "classes": z.shape[1], "start_mb": peak_mb()}
passes = []
def counting(done, total):
    if done >= total:
        passes.append(time.perf_counter())
t0 = time.perf_counter()
before = calibration.summarize(z, y, progress=counting)
t1 = time.perf_counter()
T = calibration.fit_temperature(z, y, progress=counting)
t2 = time.perf_counter()
after = calibration.summarize(z, y, temperature=T, progress=counting)
t3 = time.perf_counter()
out.update(summary_s=t1 - t0, fit_s=t2 - t1, fit_passes=len(passes) - 1, summary_after_s=t3 - t2, T=T,
           before=before.metrics(), after=after.metrics(), peak_mb=peak_mb())
print(json.dumps(out))
"""


def write(path: Path, rows: int, classes: int, seed: int = 0) -> None:
    """The logits and their labels, written in 256 MB pieces (this process never holds more)."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, classes))
    labels = np.lib.format.open_memmap(path.with_suffix(".labels.npy"), mode="w+", dtype=np.int64, shape=(rows,))
    step = max(1, (256 << 20) // (4 * classes))
    for i in range(0, rows, step):
        n = min(step, rows - i)
        z = rng.standard_normal((n, classes), dtype=np.float32) * 3
        e = np.exp((z - z.max(axis=1, keepdims=True)) / TRUE_T)
        cdf = np.cumsum(e / e.sum(axis=1, keepdims=True), axis=1)
        labels[i:i + n] = np.minimum((cdf < rng.random((n, 1))).sum(axis=1), classes - 1)
        out[i:i + n] = z
        out.flush()
        sys.stderr.write(f"\rwriting {path.name}: {100 * (i + n) / rows:5.1f}%")
    sys.stderr.write("\n")
    del out, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=20.0)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--path", type=Path, default=Path("/tmp/logitsviz-bench/eval.npy"))
    parser.add_argument("--keep", action="store_true", help="keep the file afterwards (default: delete it)")
    args = parser.parse_args()
    rows = int(args.gb * 1e9) // (4 * args.classes)
    args.path.parent.mkdir(parents=True, exist_ok=True)
    labels_path = args.path.with_suffix(".labels.npy")
    existing = np.load(args.path, mmap_mode="r").shape if args.path.exists() and labels_path.exists() else None
    if existing != (rows, args.classes):
        write(args.path, rows, args.classes)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CHILD, str(args.path), str(labels_path)], capture_output=True, text=True,
                            env=env, cwd=root, check=True)
    wall = time.perf_counter() - start
    r = json.loads(result.stdout)
    size_gb = args.path.stat().st_size / 1e9
    passes = 2 + r["fit_passes"]
    print(f"file: {size_gb:.2f} GB float32, {r['rows']:,} rows x {r['classes']:,} classes (labels drawn at T = {TRUE_T})")
    print(f"metrics at T = 1 (every metric, classwise too): {r['summary_s']:.1f} s  ({r['rows'] / r['summary_s']:,.0f} rows/s, "
          f"{size_gb / r['summary_s']:.2f} GB/s)")
    print(f"temperature fit: {r['fit_s']:.1f} s in {r['fit_passes']} passes -> T = {r['T']:.4f}")
    print(f"metrics at the fitted T: {r['summary_after_s']:.1f} s")
    print(f"total: {wall:.1f} s for {passes} passes over {size_gb:.1f} GB")
    print(f"peak resident memory of the process: {r['peak_mb']:.0f} MB (goal: under 1,024 MB; {r['start_mb']:.0f} MB after start-up)")
    print("before:", {k: round(v, 4) for k, v in r["before"].items()})
    print("after: ", {k: round(v, 4) for k, v in r["after"].items()})
    if not args.keep:
        args.path.unlink()
        labels_path.unlink()


if __name__ == "__main__":
    main()

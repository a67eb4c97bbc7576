"""``logitsviz compare`` over two memory-mapped dumps of about 1 GB each, beside the same KL computed by PyTorch.

    python -m benchmarks.compare_dumps [--gb 1.0] [--classes 32000] [--dir DIR] [--keep]

Writes (once, then reuses) two float32 ``.npy`` dumps of ``gb`` GB each: a base and the same logits with noise, as a
model and its quantised copy give, and the targets. Then, each in a fresh child process and in turn:

- ``logitsviz compare A B --targets T --json``: the whole command, every statistic (KL, JS, TV, same top, Δp,
  perplexities);
- a minimal PyTorch loop over the same memory maps, 64 MB at a time: ``kl_div(log_softmax(q), log_softmax(p))`` and the
  argmax agreement, nothing else (what a user would write by hand for the mean KL and same-top rate).

Prints each one's wall time, rows per second and peak resident memory (VmHWM: the mapped pages count as they are
touched; the page cache itself is the kernel's). Not part of ``python -m benchmarks``: it needs 2 GB of disk.
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

ROOT = Path(__file__).resolve().parents[1]

TORCH = """
import json, sys, time
import numpy as np, torch
torch.set_num_threads(2)
a = np.load(sys.argv[1], mmap_mode="r"); b = np.load(sys.argv[2], mmap_mode="r")
step = max(1, (64 << 20) // (a.shape[1] * 4))
t0 = time.perf_counter(); kl = 0.0; same = 0
with torch.inference_mode():
    for i in range(0, a.shape[0], step):
        p = torch.from_numpy(np.ascontiguousarray(a[i:i + step])); q = torch.from_numpy(np.ascontiguousarray(b[i:i + step]))
        lp, lq = torch.log_softmax(p, -1), torch.log_softmax(q, -1)
        kl += float(torch.nn.functional.kl_div(lq, lp, reduction="sum", log_target=True))
        same += int((p.argmax(-1) == q.argmax(-1)).sum())
seconds = time.perf_counter() - t0
peak = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "kl_mean": kl / a.shape[0], "same_top": same / a.shape[0], "peak_mb": peak}))
"""


def write(folder: Path, rows: int, classes: int, seed: int = 0) -> tuple[Path, Path, Path]:
    paths = folder / "base.npy", folder / "other.npy", folder / "targets.npy"
    if all(p.exists() for p in paths) and np.load(paths[0], mmap_mode="r").shape == (rows, classes):
        return paths
    rng = np.random.default_rng(seed)
    a = np.lib.format.open_memmap(paths[0], mode="w+", dtype=np.float32, shape=(rows, classes))
    b = np.lib.format.open_memmap(paths[1], mode="w+", dtype=np.float32, shape=(rows, classes))
    step = max(1, (128 << 20) // (4 * classes))
    for i in range(0, rows, step):
        n = min(step, rows - i)
        z = rng.standard_normal((n, classes), dtype=np.float32) * 3
        a[i:i + n] = z
        b[i:i + n] = z + rng.standard_normal((n, classes), dtype=np.float32) * 0.3
        sys.stderr.write(f"\rwriting: {100 * (i + n) / rows:5.1f}%")
    sys.stderr.write("\n")
    a.flush()
    b.flush()
    del a, b
    np.save(paths[2], rng.integers(0, classes, size=rows))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0)
    ap.add_argument("--classes", type=int, default=32000)
    ap.add_argument("--dir", default="/tmp/logitsviz-compare-bench")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = int(args.gb * 2**30 // (4 * args.classes))
    a, b, targets = write(folder, rows, args.classes)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = {"rows": rows, "classes": args.classes, "gb_each": round(a.stat().st_size / 2**30, 3)}
    for name, cmd in (
        ("logitsviz_compare", [sys.executable, "-c", _MEASURED.format(args=json.dumps(["compare", str(a), str(b), "--targets",
                                                                                      str(targets), "--json"]))]),
        ("pytorch_kl_loop", [sys.executable, "-c", TORCH, str(a), str(b)]),
    ):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        seconds = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        work = data.pop("seconds", seconds)
        result[name] = {"seconds": round(work, 2), "process_seconds": round(seconds, 2),
                        "rows_per_s": round(rows / work, 1), "peak_mb": round(data.pop("peak_mb"), 1),
                        "kl_mean": data.get("kl_mean"), "same_top": data.get("same_top")}
    result["ratio_vs_pytorch"] = round(result["logitsviz_compare"]["seconds"] / result["pytorch_kl_loop"]["seconds"], 2)
    print(json.dumps(result, indent=2))
    if not args.keep:
        for p in (a, b, targets):
            p.unlink()


# the command line's own main(), timed inside its process (no interpreter start-up), its output kept for the KL
_MEASURED = """
import contextlib, io, json, time
from logitsviz.__main__ import main
buf = io.StringIO()
t0 = time.perf_counter()
with contextlib.redirect_stdout(buf):
    code = main({args})
seconds = time.perf_counter() - t0
assert code == 0
summary = json.loads(buf.getvalue())
peak = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({{"seconds": seconds, "kl_mean": summary["kl_mean"], "same_top": summary["same_top"], "peak_mb": peak}}))
"""


if __name__ == "__main__":
    main()

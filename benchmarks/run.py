"""Run every benchmark, print each one's JSON, and write them all to benchmarks/results.json.

    python -m benchmarks        (or: python benchmarks/run.py)
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["core", "grid", "explorer_rerun", "calibration_tabs", "sampling_speed", "calibration_speed", "lm_speed", "cold_start",
           "lm_first_open", "page_first_open"]


def main() -> None:
    results = {"machine": machine()}
    for name in MODULES:
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=ROOT, capture_output=True, text=True)
        text = proc.stdout.strip()
        print(f"== {name}\n{text or proc.stderr.strip()[-2000:]}", flush=True)
        try:
            results[name] = json.loads(text[text.index("{"):]) if text else {"error": proc.stderr.strip()[-500:]}
        except ValueError:
            results[name] = {"error": text[-500:]}
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def machine() -> dict:
    """Where the figures were measured: the CPU and the SIMD numpy found on it matter (numpy's float32 exp is twice as
    fast with AVX-512 as with AVX2)."""
    import datetime
    import os

    import numpy as np

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as simd  # what numpy's dispatch uses
    except ImportError:  # another numpy layout
        simd = {}
    return {"date": datetime.date.today().isoformat(), "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "avx512f": bool(simd.get("AVX512F")), "avx2": bool(simd.get("AVX2"))}


if __name__ == "__main__":
    main()

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
MODULES = ["core", "grid", "explorer_rerun", "sampling_speed", "calibration_speed", "lm_speed", "cold_start", "lm_first_open"]


def main() -> None:
    results = {"machine": {"platform": platform.platform(), "python": platform.python_version(), "cores": __import__("os").cpu_count()}}
    for name in MODULES:
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=ROOT, capture_output=True, text=True)
        text = proc.stdout.strip()
        print(f"== {name}\n{text or proc.stderr.strip()[-2000:]}", flush=True)
        try:
            results[name] = json.loads(text[text.index("{"):]) if text else {"error": proc.stderr.strip()[-500:]}
        except ValueError:
            results[name] = {"error": text[-500:]}
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""How fast the Explorer answers a temperature change, through Streamlit's AppTest.

Each figure is the median wall time of ``AppTest.run()`` after moving the
temperature slider, for several input sizes, beside a minimal one-chart
Streamlit script measured the same way in the same process.

    python -m benchmarks.explorer_rerun [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TEMPS = (0.5, 2.0, 0.7, 1.5)


def minimal_app() -> None:
    import numpy as np
    import plotly.graph_objects as go
    import streamlit as st

    t = st.select_slider("T", options=(0.5, 0.7, 1.0, 1.5, 2.0), value=1.0, key="T")
    z = np.array([2.0, 1.0, 0.1]) / t
    p = np.exp(z - z.max())
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=p / p.sum())))


def time_reruns(at: AppTest, repeats: int) -> list[float]:
    times = []
    for i in range(repeats):
        at.select_slider(key="T").set_value(TEMPS[i % len(TEMPS)])
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return times


def explorer(query: dict[str, str]) -> tuple[AppTest, float]:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    start = time.perf_counter()
    at.run()
    return at, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    base = AppTest.from_function(minimal_app, default_timeout=60).run()
    rng = np.random.default_rng(0)
    cases = {
        "3": {"logits": "2,1,0.1"},
        "1000": {"logits": ",".join(f"{v:.3f}" for v in rng.normal(size=1000))},
        "200000 (preset)": {"preset": "random200k"},
    }
    results = {}
    for name, query in cases.items():
        at, first = explorer(query)
        ours, minimal = [], []
        for _ in range(args.repeats):  # interleave so machine noise hits both alike
            ours += time_reruns(at, 1)
            minimal += time_reruns(base, 1)
        results[name] = {
            "first_run_s": round(first, 4),
            "rerun_median_s": round(statistics.median(ours), 4),
            "minimal_script_median_s": round(statistics.median(minimal), 4),
            "ratio_to_minimal": round(statistics.median(ours) / statistics.median(minimal), 2),
        }
    print(json.dumps({"benchmark": "explorer_rerun", "machine": platform.machine(), "python": platform.python_version(), "results": results}, indent=2))


if __name__ == "__main__":
    main()

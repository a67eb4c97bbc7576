"""How fast the app answers a change, through Streamlit's AppTest.

Each figure is the median wall time of ``AppTest.run()`` after moving one
slider, beside a minimal one-chart Streamlit script measured the same way in
the same process, interleaved so that machine noise hits both alike:

- the Explorer after a temperature change, for 3, 1,000, 50,000 and 200,000
  classes, the input given through the shareable-link parameters (``logits=``
  or ``preset=``), plus the first run of each;
- the Decoding page with its defaults, after a top-p change;
- the Calibration page with its defaults, after a temperature change;
- the Losses page (label smoothing), the Numerical stability page (the shift c), the Tour's first step (a logit) and
  the Language model page (its temperature, the built-in model loaded), each on its main slider.

    python -m benchmarks.explorer_rerun [--repeats 9]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.apptest import switch

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


def timed_run(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert not at.exception, at.exception
    return elapsed


def open_app(query: dict[str, str], page: str | None = None) -> tuple[AppTest, float]:
    """An AppTest of the app (or of one page, by its url path), and its first run's time."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    first = timed_run(at)
    if page:
        switch(at, page)
        first = timed_run(at)
    return at, first


# how each case moves one control between runs: (AppTest, i) -> None
Change = Callable[[AppTest, int], None]


def explorer_temperature(at: AppTest, i: int) -> None:
    at.select_slider(key="T").set_value(TEMPS[i % len(TEMPS)])


def decoding_top_p(at: AppTest, i: int) -> None:
    at.number_input(key="top_p").set_value((0.8, 0.95, 0.7, 0.9)[i % 4])


def calibration_temperature(at: AppTest, i: int) -> None:
    at.slider(key="calT").set_value(TEMPS[i % len(TEMPS)])


def losses_smoothing(at: AppTest, i: int) -> None:
    at.slider(key="ls").set_value((0.0, 0.1, 0.2, 0.05)[i % 4])


def stability_shift(at: AppTest, i: int) -> None:
    at.slider(key="c").set_value((0.0, 100.0, -500.0, 1000.0)[i % 4])


def tour_logit(at: AppTest, i: int) -> None:
    at.slider(key="tour_tech").set_value((0.5, 2.0, -1.0, 4.0)[i % 4])


def lm_temperature(at: AppTest, i: int) -> None:
    at.select_slider(key="lmT").set_value(TEMPS[i % len(TEMPS)])


def _has(at: AppTest, key: str) -> bool:
    try:
        at.select_slider(key=key)
    except KeyError:
        return False
    return True


def measure(at: AppTest, change: Change, base: AppTest, repeats: int) -> dict[str, float]:
    ours, minimal = [], []
    for i in range(repeats):  # interleaved
        change(at, i)
        ours.append(timed_run(at))
        explorer_temperature(base, i)
        minimal.append(timed_run(base))
    return {
        "rerun_median_s": round(statistics.median(ours), 4),
        "minimal_script_median_s": round(statistics.median(minimal), 4),
        "ratio_to_minimal": round(statistics.median(ours) / statistics.median(minimal), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    base = AppTest.from_function(minimal_app, default_timeout=60)
    base.run()
    rng = np.random.default_rng(0)

    def link(n: int) -> dict[str, str]:
        return {"logits": ",".join(f"{v:.3f}" for v in rng.normal(scale=3.0, size=n))}

    cases: dict[str, tuple[dict[str, str], str | None, Change]] = {
        "explorer 3": (link(3), None, explorer_temperature),
        "explorer 1000": (link(1000), None, explorer_temperature),
        "explorer 50000": (link(50_000), None, explorer_temperature),
        "explorer 200000 (preset)": ({"preset": "random200k"}, None, explorer_temperature),
        "decoding (defaults)": ({}, "decoding", decoding_top_p),
        "calibration (defaults)": ({}, "calibration", calibration_temperature),
        "losses (defaults)": ({}, "losses", losses_smoothing),
        "stability (defaults)": ({}, "stability", stability_shift),
        "tour (first step)": ({}, "tour", tour_logit),
        "language model (built-in)": ({}, "lm", lm_temperature),
    }
    results = {}
    for name, (query, page, change) in cases.items():
        at, first = open_app(query, page)
        deadline = time.perf_counter() + 120
        while page == "lm" and not _has(at, "lmT") and time.perf_counter() < deadline:  # the model loads in the background
            time.sleep(0.5)
            at.run()
        results[name] = {"first_run_s": round(first, 4), **measure(at, change, base, args.repeats)}
    print(json.dumps({"benchmark": "app_rerun", "machine": platform.machine(), "python": platform.python_version(), "results": results}, indent=2))


if __name__ == "__main__":
    main()

"""Cold start: from launching ``streamlit run app.py`` to the first chart drawn in headless Chromium.

A minimal one-chart Streamlit script is measured the same way, alternating
with the app, so the difference is what logitsviz itself adds.

    python -m benchmarks.cold_start [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.harness import launch, serve, wait_for_app

MINIMAL_SCRIPT = """
import plotly.graph_objects as go
import streamlit as st

st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[0.66, 0.24, 0.10])))
"""


def measure(browser, script: Path | None) -> dict[str, float]:
    """Seconds from launching the server to: its health check answering, the first chart, a second visit's chart."""
    start = time.perf_counter()
    with serve(script=script) as url:
        ready = time.perf_counter()
        page = browser.new_page()
        page.goto(url)
        wait_for_app(page)
        first = time.perf_counter()
        other = browser.new_page()
        t0 = time.perf_counter()
        other.goto(url)
        wait_for_app(other)
        second = time.perf_counter() - t0
        page.close()
        other.close()
    return {"server_ready_s": ready - start, "first_chart_s": first - start, "second_visit_chart_s": second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, dict[str, list[float]]] = {"logitsviz": {}, "minimal_script": {}}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_SCRIPT, encoding="utf-8")
        browser = launch(pw)
        for _ in range(args.repeats):  # alternate, so machine noise hits both alike
            for name, script in (("logitsviz", None), ("minimal_script", minimal)):
                for key, value in measure(browser, script).items():
                    runs[name].setdefault(key, []).append(value)
        browser.close()
    median = {name: {k: round(statistics.median(v), 2) for k, v in r.items()} for name, r in runs.items()}
    print(json.dumps({
        "benchmark": "cold_start",
        "median": median,
        "logitsviz_minus_minimal_first_chart_s": round(median["logitsviz"]["first_chart_s"] - median["minimal_script"]["first_chart_s"], 2),
        "runs": {name: {k: [round(x, 2) for x in v] for k, v in r.items()} for name, r in runs.items()},
    }, indent=2))


if __name__ == "__main__":
    main()

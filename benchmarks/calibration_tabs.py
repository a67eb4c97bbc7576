"""The Calibration page's slow tabs in a real browser: how long after a click the tab answers, and when it is complete.

A fresh server each time (nothing cached): open the Calibration page, click "Metrics & intervals" or "Compare
recalibration maps", and time

- **first answer**: the tab's first result drawn (the metrics tab's charts, the maps tab's progress or table);
- **table**: its table drawn (the first table of a page also loads the browser's table component, about a second
  here: the minimal script shows the same);
- **complete**: every interval and the smoothed curve's band, or every map and the diagram, drawn.

A minimal two-tab Streamlit script is timed the same way (a line of text, then a table and a chart), alternating with
the app, so the figures say what the computing costs beyond Streamlit's own round trip.

    python -m benchmarks.calibration_tabs [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from logitsviz.i18n import t
from tests.e2e.harness import launch, serve, wait_for_app

MINIMAL_SCRIPT = """
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.plotly_chart(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])))
first, second = st.tabs(["One", "Two"], on_change="rerun")
if second.open:
    with second:
        st.markdown("Two")
        st.dataframe(pd.DataFrame({"metric": ["a", "b"], "value": [0.1, 0.2]}))
        st.plotly_chart(go.Figure(go.Bar(x=["a", "b"], y=[2, 1])), key="done")
"""

PANEL = "[data-testid=stTabs] [role=tabpanel]:not([hidden])"
# (tab label key, what shows the first answer, what shows it complete)
TABS = {
    "metrics": ("cal.tab.metrics", f"{PANEL} .js-plotly-plot", ".st-key-chart_smooth .js-plotly-plot"),
    "maps": ("cal.tab.maps", f"{PANEL} [data-testid=stProgress], {PANEL} [data-testid=stDataFrame]",
             ".st-key-chart_maps .js-plotly-plot"),
}


def click_and_time(page, tab: str, first: str, complete: str) -> dict[str, float]:
    start = time.perf_counter()
    page.get_by_role("tab", name=tab).click()
    page.wait_for_selector(first)
    answered = time.perf_counter() - start
    page.wait_for_selector(f"{PANEL} [data-testid=stDataFrame]")
    table = time.perf_counter() - start
    page.wait_for_selector(complete)
    return {"first_answer_s": answered, "table_s": table, "complete_s": time.perf_counter() - start}


def measure(browser, script: Path | None, which: str) -> dict[str, float]:
    with serve(script=script) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        if script is None:
            page.goto(f"{url}/calibration")
            wait_for_app(page)
            label, first, complete = TABS[which]
            times = click_and_time(page, t(label, lang="en"), first, complete)
        else:
            page.goto(url)
            wait_for_app(page)
            times = click_and_time(page, "Two", f"{PANEL} [data-testid=stMarkdown]", ".st-key-done .js-plotly-plot")
        page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        minimal = Path(tmp) / "minimal_tabs.py"
        minimal.write_text(MINIMAL_SCRIPT, encoding="utf-8")
        browser = launch(pw)
        for _ in range(args.repeats):  # alternate, so machine noise hits every case alike
            for name, script, which in (("metrics tab", None, "metrics"), ("maps tab", None, "maps"),
                                        ("minimal two-tab script", minimal, "")):
                for key, value in measure(browser, script, which).items():
                    runs.setdefault(name, {}).setdefault(key, []).append(value)
        browser.close()
    results = {name: {key: round(statistics.median(values), 2) for key, values in keys.items()} for name, keys in runs.items()}
    print(json.dumps({"benchmark": "calibration_tabs", "machine": platform.machine(), "cpus": os.cpu_count(),
                      "repeats": args.repeats, "results": results}, indent=2))


if __name__ == "__main__":
    main()

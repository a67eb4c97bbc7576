"""Cold start: from launching ``streamlit run app.py`` to the first chart drawn in headless Chromium.

    python -m benchmarks.cold_start [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from playwright.sync_api import sync_playwright

from tests.e2e.harness import launch, serve, wait_for_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = {"server_ready_s": [], "first_chart_s": [], "second_visit_chart_s": []}
    with sync_playwright() as pw:
        browser = launch(pw)
        for _ in range(args.repeats):
            start = time.perf_counter()
            with serve() as url:
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
            results["server_ready_s"].append(ready - start)
            results["first_chart_s"].append(first - start)
            results["second_visit_chart_s"].append(second)
        browser.close()
    print(json.dumps({"benchmark": "cold_start", "median": {k: round(statistics.median(v), 2) for k, v in results.items()},
                      "runs": {k: [round(x, 2) for x in v] for k, v in results.items()}}, indent=2))


if __name__ == "__main__":
    main()

"""Every page's first open in a fresh browser, against a minimal one-chart page.

One app server and one server of a minimal one-chart Streamlit script run side by side. In each round every page of
the app, and the minimal page, is opened in a new browser context (nothing cached in the browser) and timed from
``goto`` until its first chart is drawn and its script has finished. The first round also pays what a server does
once (the digits model, the built-in language model); the figure kept is the median of the rounds, with the first
round's shown apart.

    python -m benchmarks.page_first_open [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.cold_start import MINIMAL_SCRIPT
from logitsviz.ui.nav import PAGES
from tests.e2e.harness import launch, serve, wait_for_app


def opened(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    wait_for_app(page)
    elapsed = time.perf_counter() - start - 0.4  # wait_for_app waits 0.4 s more for late changes: not the page's
    context.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_SCRIPT, encoding="utf-8")
        browser = launch(pw)
        with serve() as app, serve(script=minimal) as base:
            for _ in range(args.rounds):
                for name in PAGES:  # each page, then the minimal page: noise hits both alike
                    times.setdefault(name, []).append(opened(browser, f"{app}/{name}"))
                    times.setdefault("minimal", []).append(opened(browser, base))
        browser.close()
    minimal_s = statistics.median(times.pop("minimal")[len(PAGES):] or [0.0])
    results = {
        name: {"first_round_s": round(values[0], 2), "median_s": round(statistics.median(values[1:] or values), 2),
               "ratio_to_minimal": round(statistics.median(values[1:] or values) / minimal_s, 2)}
        for name, values in times.items()
    }
    print(json.dumps({"benchmark": "page_first_open", "rounds": args.rounds, "minimal_page_s": round(minimal_s, 2),
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()

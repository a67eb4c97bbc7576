"""The Language model page at first contact: a fresh server (nothing cached anywhere) to the built-in model's first chart.

Measured in headless Chromium against a fresh ``streamlit run app.py`` with
empty cache folders (``LOGITSVIZ_CACHE``, ``HF_HOME``): nothing is trained or
downloaded, the model ships with the package and runs in numpy. Alternates
with a minimal one-chart Streamlit script measured the same way. Also the
built-in model's load and forward pass over 128 tokens, in this process.

    python -m benchmarks.lm_first_open [--repeats 3]
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
from tests.e2e.harness import launch, serve, wait_for_app


def measure(browser, script: Path | None, path: str, cache: Path) -> dict[str, float]:
    """Seconds from launching the server to its health check, the page's first chart, and a second visit's chart."""
    start = time.perf_counter()
    env = {"LOGITSVIZ_CACHE": str(cache), "HF_HOME": str(cache / "hf")}
    with serve(script=script, env=env) as url:
        ready = time.perf_counter()
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/{path}")
        wait_for_app(page, timeout=180_000)
        first = time.perf_counter()
        other = browser.new_page(viewport={"width": 1366, "height": 900})
        t0 = time.perf_counter()
        other.goto(f"{url}/{path}")
        wait_for_app(other, timeout=180_000)
        second = time.perf_counter() - t0
        page.close()
        other.close()
    return {"server_ready_s": ready - start, "first_chart_s": first - start, "second_visit_chart_s": second}


def forward_ms(repeats: int = 20) -> dict[str, float]:
    """Milliseconds of one forward pass of the built-in model over 128 tokens (median), and its load time."""
    t0 = time.perf_counter()
    from logitsviz import examples, lm

    model = lm.load(str(examples.language_model_folder()))
    load = time.perf_counter() - t0
    ids = model.encode("The for statement is used to iterate over the elements of a sequence. 这个命令用于列出目录中的文件。" * 8)[:128]
    model._forward(ids)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model._forward(ids)
        times.append(time.perf_counter() - t)
    return {"load_in_process_s": round(load, 2), "forward_128_tokens_ms": round(1000 * statistics.median(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, dict[str, list[float]]] = {"language_model_page": {}, "minimal_script": {}}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        minimal = Path(tmp) / "minimal_app.py"
        minimal.write_text(MINIMAL_SCRIPT, encoding="utf-8")
        browser = launch(pw)
        for i in range(args.repeats):  # alternate, so machine noise hits both alike
            for name, script, path in (("language_model_page", None, "lm?lang=en"), ("minimal_script", minimal, "")):
                cache = Path(tmp) / f"cache-{name}-{i}"  # a fresh, empty cache every time
                cache.mkdir()
                for key, value in measure(browser, script, path, cache).items():
                    runs[name].setdefault(key, []).append(value)
        browser.close()
    median = {name: {k: round(statistics.median(v), 2) for k, v in r.items()} for name, r in runs.items()}
    print(json.dumps({
        "benchmark": "lm_first_open",
        "median": median,
        "model": forward_ms(),
        "runs": {name: {k: [round(x, 2) for x in v] for k, v in r.items()} for name, r in runs.items()},
    }, indent=2))


if __name__ == "__main__":
    main()

"""Eight users at once: each loads pages with its own input five times; every load renders, none fails.

Prints the time taken and the server's memory before and after (run with -s to see it).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from tests.e2e.harness import CHROMIUM_ARGS, chromium_path, rss_mb, serve_process

USERS, LOADS = 8, 5
PATHS = [
    "/?lang=en&logits=a:{i},b:{j},c:1",
    "/decoding?lang=zh&src=code&seed={i}",
    "/?lang=zh&logits={i},{j},0.5,-1&T=2.0",
    "/losses?lang=en&logits=x:{i},y:{j}",
    "/stability?lang=en&stab=float16",
]

# minutes of eight browsers at once: the slow step of CI (python -m pytest -m slow), not the README's quick command
pytestmark = pytest.mark.slow


async def user(browser, base: str, who: int, results: list) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    for k in range(LOADS):
        path = PATHS[(who + k) % len(PATHS)].format(i=who + 1, j=k + 2)
        start = time.perf_counter()
        await page.goto(base + path)
        await page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
        await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=120_000)
        failed = await page.locator("[data-testid=stException]").count()
        results.append((who, path, time.perf_counter() - start, failed))
    await context.close()


async def run_all(base: str) -> list:
    from playwright.async_api import async_playwright

    results: list = []
    async with async_playwright() as pw:
        path = chromium_path()
        browser = await pw.chromium.launch(headless=True, args=CHROMIUM_ARGS, **({"executable_path": path} if path else {}))
        await asyncio.gather(*(user(browser, base, who, results) for who in range(USERS)))
        await browser.close()
    return results


@pytest.mark.timeout_hint(300)
def test_eight_concurrent_users(browser):  # the browser fixture: skip locally without Chromium, fail in CI
    results: list = []
    with serve_process() as (url, proc):
        before = rss_mb(proc.pid)
        start = time.perf_counter()
        # the sync Playwright of the other tests owns this thread's event loop: run ours on its own thread
        worker = threading.Thread(target=lambda: results.extend(asyncio.run(run_all(url))))
        worker.start()
        worker.join()
        elapsed = time.perf_counter() - start
        after = rss_mb(proc.pid)
    assert len(results) == USERS * LOADS
    assert all(failed == 0 for *_, failed in results)
    slowest = max(seconds for _, _, seconds, _ in results)
    print(f"\nload test: {USERS} users x {LOADS} loads in {elapsed:.1f} s; slowest load {slowest:.1f} s; "
          f"server memory {before:.0f} MB -> {after:.0f} MB (+{after - before:.0f} MB)")


# ------------------------------------------------------ uploads on the Calibration page ----

ROWS, CLASSES = 39_500, 100  # 3,950,000 float64 values and their labels, a 31.9 MB .npz: just under both default limits


async def uploader(browser, base: str, who: int, file: str, results: list) -> None:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(base + "/calibration?lang=en&data=upload")
    await page.wait_for_selector("input[type=file]", state="attached", timeout=120_000)
    await page.locator("input[type=file]").first.set_input_files(file)
    await page.wait_for_selector(".js-plotly-plot .main-svg", timeout=300_000)
    await page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=300_000)
    failed = await page.locator("[data-testid=stException]").count()
    results.append((who, time.perf_counter() - start, failed))
    # the session stays open: its upload and results are what the server holds for this user


async def upload_all(base: str, file: str, hold: threading.Event, measured: threading.Event) -> list:
    from playwright.async_api import async_playwright

    results: list = []
    async with async_playwright() as pw:
        path = chromium_path()
        browser = await pw.chromium.launch(headless=True, args=CHROMIUM_ARGS, **({"executable_path": path} if path else {}))
        await asyncio.gather(*(uploader(browser, base, who, file, results) for who in range(USERS)))
        hold.set()  # every user's set is loaded: measure now, while all sessions are alive
        await asyncio.get_running_loop().run_in_executor(None, measured.wait)
        await browser.close()
    return results


@pytest.mark.timeout_hint(600)
def test_eight_users_upload_evaluation_sets_under_a_gigabyte(browser, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    file = tmp_path / "eval.npz"
    np.savez(file, logits=rng.normal(0, 3, (ROWS, CLASSES)), labels=rng.integers(0, CLASSES, ROWS))
    from logitsviz import inputs

    assert file.stat().st_size <= inputs.MAX_UPLOAD_BYTES  # the browser itself refuses a larger file
    results: list = []
    hold, measured = threading.Event(), threading.Event()
    with serve_process() as (url, proc):
        before = rss_mb(proc.pid)
        samples: list[float] = []
        done = threading.Event()
        sampler = threading.Thread(target=lambda: [samples.append(rss_mb(proc.pid)) or done.wait(0.1) for _ in iter(done.is_set, True)])
        sampler.start()  # the peak while uploads are parsed and reports computed, not only what stays after
        errors: list[BaseException] = []

        def work() -> None:
            try:
                results.extend(asyncio.run(upload_all(url, str(file), hold, measured)))
            except BaseException as exc:  # reported by the test below
                errors.append(exc)
            finally:
                hold.set()  # never leave the test waiting for a browser that failed

        worker = threading.Thread(target=work)
        worker.start()
        hold.wait(timeout=900)
        held = rss_mb(proc.pid)
        measured.set()
        worker.join()
        done.set()
        sampler.join()
        peak = max(samples + [held])
    assert not errors, errors
    assert len(results) == USERS and all(failed == 0 for *_, failed in results)
    print(f"\nupload load test: {USERS} users, each {file.stat().st_size / 1e6:.1f} MB ({ROWS:,} x {CLASSES} float64); "
          f"server memory {before:.0f} MB before, {held:.0f} MB with every session open, peak {peak:.0f} MB")
    assert peak < 1024, f"{peak:.0f} MB"

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

"""Browser fixtures: one server and one Chromium for the whole session.

Without a browser the tests skip, except in CI (``CI`` set), where a missing
browser is a failure: .ci/run installs Debian's chromium.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.harness import launch, serve


@pytest.fixture(scope="session")
def app_url():
    with serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        try:
            b = launch(pw)
        except Exception as exc:
            if os.environ.get("CI"):
                raise RuntimeError(f"no usable Chromium in CI: {exc}") from exc
            pytest.skip(f"no Chromium available: {exc}")
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="en-US")
    pg = context.new_page()
    yield pg
    context.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)

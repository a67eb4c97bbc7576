"""Start the real app on a free loopback port and drive it with headless Chromium.

The browser is, in order: ``$LOGITSVIZ_CHROMIUM`` (a path), Debian's
``chromium`` on PATH, or Playwright's own browser where one is installed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


# each running server's log file, by base URL: an exception on a page is shown redacted, the log has its cause
_LOGS: dict[str, str] = {}


def chromium_path() -> str | None:
    """The Chromium to use, or None to let Playwright find its own."""
    explicit = os.environ.get("LOGITSVIZ_CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(timeout: float = 60.0, extra_args: tuple[str, ...] = (), script: Path | None = None,
          env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run app.py`` (or ``script``) headless, with ``env`` added to the environment; yield its base URL; stop it after."""
    with serve_process(timeout, extra_args, script, env) as (url, _):
        yield url


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def serve_process(
    timeout: float = 60.0, extra_args: tuple[str, ...] = (), script: Path | None = None, env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like :func:`serve`, also yielding the server process (to watch its memory, or kill it); on ``port`` if given."""
    port = port or free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script or ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra_args,
    ]
    # the server's output goes to a file, never to a pipe: a pipe nobody reads fills up (64 KB of log lines over a
    # long test session) and the server then blocks on its next write, every later page timing out
    log = tempfile.NamedTemporaryFile("w+b", prefix="logitsviz-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    _LOGS[url] = log.name
    try:
        if not wait_healthy(url, timeout, alive=lambda: proc.poll() is None):
            raise RuntimeError(f"streamlit did not start on {url}:\n{_tail(log.name)}")
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _LOGS.pop(url, None)
        log.close()
        os.unlink(log.name)


def wait_healthy(url: str, timeout: float, alive=lambda: True, interval: float = 0.25) -> bool:
    """Whether Streamlit's health check at ``url`` answers within ``timeout`` seconds (False as soon as not ``alive()``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(interval)


def _tail(path: str, n: int = 2000) -> str:
    with open(path, "rb") as fh:
        return re.sub(r"\x1b\[[0-9;]*m", "", fh.read().decode(errors="replace"))[-n:]  # without the log's colours


# How long a browser test waits for the page's state (a run finished, an element drawn) before failing. Generous,
# because CI shares its 2 cores: the tests wait on state, never on a fixed time, so a quiet machine is no slower.
PATIENCE_MS = 120_000


def launch(playwright):
    """A headless Chromium browser whose every context and page waits up to :data:`PATIENCE_MS` for the page's state."""
    path = chromium_path()
    kwargs = {"executable_path": path} if path else {}
    browser = playwright.chromium.launch(headless=True, args=CHROMIUM_ARGS, **kwargs)
    new_context, new_page = browser.new_context, browser.new_page

    def patient_context(*args, **kw):
        context = new_context(*args, **kw)
        context.set_default_timeout(PATIENCE_MS)
        return context

    def patient_page(*args, **kw):
        page = new_page(*args, **kw)
        page.set_default_timeout(PATIENCE_MS)
        return page

    browser.new_context, browser.new_page = patient_context, patient_page
    return browser


def wait_for_app(page, timeout: float = PATIENCE_MS) -> None:
    """Wait until the script has finished running and a chart is drawn."""
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout
    )
    page.wait_for_timeout(400)


def exceptions(page) -> list[str]:
    """Every exception box on the page, each with the end of the server's log (the page shows it redacted)."""
    boxes = [box.inner_text() for box in page.locator("[data-testid=stException]").all()]
    origin = "/".join(page.url.split("/")[:3])
    log = _LOGS.get(origin)
    return [f"{box}\n--- server log ---\n{_tail(log, 3000) if log else '(not served here)'}" for box in boxes]

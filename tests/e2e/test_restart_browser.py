"""A server restart loses nothing a link holds: kill the server (SIGKILL) under open pages, start it again, look.

Streamlit's page reconnects by itself and starts a new session from the address
it shows; everything set on a page is in that address, so the page comes back
as it was. What a link cannot hold (an upload too large for it) says so after
the restart instead of silently showing the default example.
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

from tests.e2e.harness import exceptions, free_port, serve_process, wait_for_app
from tests.e2e.test_decoding_browser import kept_text
from tests.e2e.test_explorer_browser import CATALOGS
from tests.e2e.test_links_browser import metric_values

EN = CATALOGS["en"]

# a server killed and started again: the slow step of CI (python -m pytest -m slow), not the README's quick command
pytestmark = pytest.mark.slow


def sockets_opened(page) -> list:
    """The page's connections to the server, each with the number of messages it received."""
    opened: list = []

    def watch(ws) -> None:
        if "/_stcore/stream" in ws.url:
            received = [0]
            ws.on("framereceived", lambda _: received.__setitem__(0, received[0] + 1))
            opened.append(received)

    page.on("websocket", watch)
    return opened


def idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")


def test_pages_come_back_as_they_were_after_a_sigkill(browser, tmp_path):
    port = free_port()
    context = browser.new_context(viewport={"width": 1366, "height": 900})

    # the Explorer: logits pasted, the temperature moved with the keyboard
    explorer = context.new_page()
    explorer_sockets = sockets_opened(explorer)
    # the Decoding lab on those logits: top-k on, top-p off
    decoding = context.new_page()
    decoding_sockets = sockets_opened(decoding)
    # an upload too large for a link
    upload = context.new_page()
    upload_sockets = sockets_opened(upload)
    big = tmp_path / "big.npy"
    np.save(big, np.linspace(-4, 4, 5000))

    with serve_process(port=port) as (url, proc):
        explorer.goto(f"{url}/?lang=en")
        wait_for_app(explorer)
        explorer.get_by_role("tab", name=EN["explorer.tab_paste"]).click()
        box = explorer.get_by_role("textbox", name=EN["explorer.paste_label"])
        box.fill("apple: 3\nbanana: 1\ncherry: 0\ndate: -1")
        box.press("Control+Enter")
        explorer.wait_for_function("() => location.search.includes('logits=apple')")
        idle(explorer)
        slider = explorer.get_by_role("slider").first
        slider.focus()
        explorer.keyboard.press("ArrowRight")
        explorer.keyboard.press("ArrowRight")
        explorer.wait_for_function("() => /[?&]T=1\\.2/.test(location.search)")
        idle(explorer)
        explorer_before = (explorer.url, metric_values(explorer), slider.get_attribute("aria-valuetext"))

        # filters set from a link (switching them by hand is the Decoding lab's own browser test): top-k on, top-p off
        decoding.goto(f"{url}/decoding?lang=en&src=explorer&logits=apple:3,banana:1,cherry:0,date:-1&on_top_k=true&top_k=2"
                      "&on_top_p=false")
        wait_for_app(decoding)
        decoding.locator(".st-key-top_k input").first.wait_for()
        decoding_before = (decoding.url, kept_text(decoding), metric_values(decoding))

        upload.goto(f"{url}/?lang=en")
        wait_for_app(upload)
        upload.get_by_role("tab", name=EN["explorer.tab_upload"]).click()
        upload.locator("input[type=file]").first.set_input_files(str(big))
        upload.wait_for_function("() => location.search.includes('input=unlinked')")
        idle(upload)

        counts = len(explorer_sockets), len(decoding_sockets), len(upload_sockets)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    with serve_process(port=port):  # the same address, a new process: no session survived
        for page, opened, before in zip((explorer, decoding, upload), (explorer_sockets, decoding_sockets, upload_sockets), counts):
            for _ in range(360):  # Streamlit's page retries with a back-off; up to 90 s
                if len(opened) > before:
                    break
                page.wait_for_timeout(250)  # lets Playwright deliver the page's events
            assert len(opened) > before, "the page did not reconnect by itself"
        for page, opened in zip((explorer, decoding, upload), (explorer_sockets, decoding_sockets, upload_sockets)):
            # the new server ran the page (a run sends its elements; a reconnect alone sends a message or two),
            # so what is on screen below is new, not the old figures left over a session that never ran
            page.wait_for_function("() => true")
            for _ in range(240):
                if opened[-1][0] >= 10:
                    break
                page.wait_for_timeout(250)
            assert opened[-1][0] >= 10, f"the page reconnected but the app did not run again ({opened[-1][0]} messages)"
        for page in (explorer, decoding, upload):
            wait_for_app(page)
            assert exceptions(page) == []

        # the same address, the same figures, the same settings
        assert explorer.url == explorer_before[0]
        assert metric_values(explorer) == explorer_before[1]
        assert explorer.get_by_role("slider").first.get_attribute("aria-valuetext") == explorer_before[2]
        assert "apple" in explorer.inner_text("body")

        assert decoding.url == decoding_before[0]
        assert kept_text(decoding) == decoding_before[1]
        assert metric_values(decoding) == decoding_before[2]
        assert decoding.get_by_role("switch", name=EN["decode.filter.top_k.name"]).is_checked()

        # the upload could not be carried: the page says so instead of passing off the example as the user's input
        upload.get_by_text(EN["link.unlinked"]).wait_for()
        assert "input=unlinked" not in upload.url
    context.close()

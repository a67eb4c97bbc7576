"""Screenshots of every page in both languages, for the README and for looking at.

    python -m tests.e2e.screenshots [--out docs/screenshots] [--narrow] [--server http://localhost:8080]

With ``--server`` (a llama.cpp server, e.g. the built-in model converted by
tests/servers/gguf_export.py), the Tokens page's "Ask a server" too: asked,
streamed, and one token opened.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import sync_playwright

from logitsviz.i18n import t
from tests.e2e.harness import ROOT, launch, serve, wait_for_app

PAGES = {
    "explorer": "",  # the default page lives at the root
    "decoding": "decoding",
    "lm": "lm",
    "tokens": "tokens",
    "compare": "compare",
    "calibration": "calibration",
    "losses": "losses",
    "stability": "stability",
}
SIZES = {"wide": (1400, 1900), "narrow": (420, 2400)}
# a tab worth its own picture: (file name, page, the tab label's key)
TABS = [
    ("calibration-metrics", "calibration?calT=1.5", "cal.tab.metrics"),
    ("calibration-maps", "calibration", "cal.tab.maps"),
    ("compare-summary", "compare", "cmp.tab.summary"),
    ("lm-layers", "lm?prompt=The%20new%20smartphone%20has%20a", "lm.tab.layers"),
    ("compare-speculative", "compare", "cmp.tab.speculative"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--narrow", action="store_true", help="also take narrow-window shots")
    parser.add_argument("--server", help="a llama.cpp server to ask on the Tokens page")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with serve() as url, sync_playwright() as pw:
        browser = launch(pw)
        for name, path in PAGES.items():
            for lang in ("en", "zh"):
                for size, (w, h) in SIZES.items():
                    if size == "narrow" and not args.narrow:
                        continue
                    page = browser.new_page(viewport={"width": w, "height": h}, locale="en-US")
                    page.goto(f"{url}/{path}?lang={lang}")
                    wait_for_app(page)
                    suffix = "" if size == "wide" else "-narrow"
                    out = args.out / f"{name}-{lang}{suffix}.png"
                    page.screenshot(path=str(out))
                    print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
                    page.close()
        for name, path, label in TABS:
            for lang in ("en", "zh"):
                page = browser.new_page(viewport=dict(zip(("width", "height"), SIZES["wide"])), locale="en-US")
                page.goto(f"{url}/{path}{'&' if '?' in path else '?'}lang={lang}")
                wait_for_app(page)
                tab = page.get_by_role("tab", name=t(label, lang=lang))
                tab.click()
                page.wait_for_timeout(8000)  # the tab's numbers (bootstrap, fits) take a few seconds
                tab.scroll_into_view_if_needed()
                out = args.out / f"{name}-{lang}.png"
                page.screenshot(path=str(out))
                print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
                page.close()
        if args.server:
            ask_a_server(browser, url, args.server, args.out, narrow=args.narrow)
        browser.close()


def ask_a_server(browser, url: str, server: str, out: Path, *, narrow: bool) -> None:
    """The Tokens page asking ``server`` (llama.cpp's /completion) in each language, one token opened."""
    for lang, prompt in (("en", "The for statement"), ("zh", "这个命令用于")):
        for size, (w, h) in SIZES.items():
            if size == "narrow" and not narrow:
                continue
            page = browser.new_page(viewport={"width": w, "height": h}, locale="en-US")
            page.goto(f"{url}/tokens?lang={lang}&tsrc=server&tsrv_url={quote(server)}&tsrv_api=llama.cpp"
                      f"&tsrv_prompt={quote(prompt)}&tsrv_n=24")
            page.get_by_role("button", name=t("srv.ask", lang=lang)).click()
            wait_for_app(page)
            token = page.locator("[class*=stPlotlyChart]").first.locator(".bars .point path").nth(3).bounding_box()
            page.mouse.click(token["x"] + token["width"] / 2, token["y"] + token["height"] / 2)
            page.get_by_role("button", name=t("lm.open_explorer", lang=lang)).wait_for()
            wait_for_app(page)
            path = out / f"tokens-server-{lang}{'' if size == 'wide' else '-narrow'}.png"
            page.screenshot(path=str(path))
            print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
            page.close()


if __name__ == "__main__":
    main()

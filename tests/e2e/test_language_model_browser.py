"""The Language model page in Chromium: a tiny model from a folder, the next token, a click on a generated token."""

from __future__ import annotations

import textwrap
from urllib.parse import quote

import pytest

from tests.e2e.harness import exceptions, serve, wait_for_app
from tests.e2e.test_explorer_browser import CATALOGS


@pytest.fixture(scope="module")
def lm_url(tiny_models):
    with serve(env={"LOGITSVIZ_LOCAL_MODELS": "1"}) as url:
        yield url, str(tiny_models["gpt2"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_next_token_generate_and_branch(browser, lm_url, lang):
    url, folder = lm_url
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-US")
    page.goto(f"{url}/lm?lang={lang}&model={quote(folder)}&g_steps=8")
    wait_for_app(page)
    assert exceptions(page) == []
    assert page.get_by_text(CATALOGS[lang]["lm.title"]).count() >= 1
    page.get_by_role("tab", name=CATALOGS[lang]["lm.tab.generate"]).click()
    strip = page.locator("[class*=stPlotlyChart]").filter(has=page.locator(".bars")).nth(1)
    strip.wait_for()
    before = page.get_by_role("textbox", name=CATALOGS[lang]["lm.prompt"]).input_value()
    box = strip.locator(".bars .point path").nth(2).bounding_box()  # the third generated token
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # plotly reads clicks on its drag layer
    branch = page.get_by_role("button", name=CATALOGS[lang]["lm.gen.branch"])
    branch.wait_for()
    branch.click()
    page.wait_for_function(
        "(before) => [...document.querySelectorAll('textarea')].some(t => t.value.length > before.length && t.value.startsWith(before))",
        arg=before,
    )
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    assert exceptions(page) == []
    page.close()


def _hiding(tmp_path, modules: tuple[str, ...]) -> dict:
    """An environment whose Python cannot import ``modules`` (a sitecustomize that refuses them)."""
    import os

    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(f"""
        import sys

        class HideTheLmExtra:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {modules!r}:
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, HideTheLmExtra())
    """))
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_without_pytorch_the_built_in_model_still_runs(browser, tmp_path):
    # the hosted demo installs requirements.txt only: the built-in model runs in numpy, other models say what they need
    with serve(env=_hiding(tmp_path, ("torch", "transformers"))) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/lm?lang=en")
        wait_for_app(page)
        assert exceptions(page) == []
        assert page.get_by_text(CATALOGS["en"]["lm.enable_more"].split(":")[0]).count() == 1
        assert page.locator("[data-testid=stMetric]").count() >= 5  # the next-token tiles under the chart
        page.close()


def test_the_page_says_how_to_enable_it_without_the_extra(browser, tmp_path):
    # nothing to run a model with: the app starts and every other page works, this one explains
    with serve(env=_hiding(tmp_path, ("torch", "transformers", "tokenizers"))) as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/lm?lang=en")
        page.get_by_text("pip install -r requirements-lm.txt").wait_for()
        assert exceptions(page) == []
        page.goto(f"{url}/?lang=en")
        wait_for_app(page)
        assert exceptions(page) == []
        page.close()


def _loaded_torch(pid: int) -> bool:
    with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as fh:
        return any("libtorch" in line for line in fh)


@pytest.mark.slow  # every page in turn on a server of its own
def test_language_model_code_loads_only_when_its_page_opens(browser, tiny_models):
    # with the extra installed the app starts as fast as without it: no page but the language model's imports torch
    from tests.e2e.harness import serve_process

    with serve_process(env={"LOGITSVIZ_LOCAL_MODELS": "1"}) as (url, proc):
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for path in ("/?lang=en", "/tour?lang=en", "/decoding?lang=en", "/tokens?lang=en", "/compare?lang=en", "/calibration?lang=en",
                     "/losses?lang=en", "/stability?lang=en"):
            page.goto(url + path)
            wait_for_app(page)
            assert exceptions(page) == [], path
        assert not _loaded_torch(proc.pid), "a page other than the language model's loaded torch"
        page.goto(f"{url}/lm?lang=en")  # the built-in model runs in numpy: still no torch
        wait_for_app(page)
        assert exceptions(page) == [] and not _loaded_torch(proc.pid)
        page.goto(f"{url}/lm?lang=en&model={quote(str(tiny_models['llama']))}")
        # the first import of torch and transformers in a fresh environment compiles their modules: on a busy 2-core
        # CI machine (the other slow tests run beside this one) that took longer than the usual two minutes
        wait_for_app(page, timeout=360_000)
        assert exceptions(page) == []
        assert _loaded_torch(proc.pid)
        page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_logit_lens_cell_opens_in_the_explorer(browser, app_url, lang):
    from logitsviz import examples, lm

    prompt = "The new smartphone has a"
    page = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="en-US")
    page.goto(f"{app_url}/lm?lang={lang}&lm_tab=layers&prompt={quote(prompt)}")
    # (the Next token tab's chart is drawn but hidden: wait for the grid itself, not the first chart)
    grid = page.locator("[class*=stPlotlyChart]").filter(has=page.locator(".bars")).filter(visible=True).first
    grid.wait_for(timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    assert exceptions(page) == []
    lens = lm.load(str(examples.language_model_folder())).lens(prompt)
    n_pos = len(lens.ids)
    cell = 1 * n_pos + 2  # layer 1, the third position
    box = grid.locator(".bars .point path").nth(cell).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lens_pos') === '3'")
    button = page.get_by_role("button", name=CATALOGS[lang]["lm.open_explorer"])
    button.wait_for()
    button.click()
    page.wait_for_function("() => !location.pathname.endsWith('/lm')")
    wait_for_app(page)
    assert exceptions(page) == []
    top = lens.vocab[int(lens.top_ids()[1, 2])]
    assert top.strip() in page.inner_text("body")
    page.close()

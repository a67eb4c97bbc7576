"""Every tab of every page is in the link: a shared link opens on the tab it was taken on, in either language."""

from __future__ import annotations

import pytest

from logitsviz.i18n import t
from tests.apptest import open_page

TABS = [  # (page, its tab key in the link, a tab that is not the first, the catalogue key of its label)
    ("calibration", "cal_tab", "maps", "cal.tab.maps"),
    ("calibration", "cal_tab", "temperature", "cal.tab.temperature"),
    ("", "in_tab", "paste", "explorer.tab_paste"),
    ("losses", "loss_tab", "nce", "loss.tab.nce"),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("page", "key", "tab", "label"), TABS)
def test_a_link_opens_its_tab(page, key, tab, label, lang):
    at = open_page(page or None, {"lang": lang, key: tab})
    assert not at.exception
    assert at.session_state[key] == t(label, lang=lang)  # the open tab
    assert at.query_params[key] == tab  # and the link keeps saying so, by id, whatever the language


@pytest.mark.parametrize(("page", "key", "tab", "label"), TABS)
def test_opening_a_tab_writes_it_into_the_link_and_a_language_switch_keeps_it(page, key, tab, label):
    at = open_page(page or None, {"lang": "en"})
    assert key not in at.query_params  # the first tab: the link says nothing
    at.session_state[key] = t(label, lang="en")  # as a click on the tab does
    at.run()
    assert at.query_params[key] == tab
    at.segmented_control(key="lang_switch").set_value("zh").run()
    assert not at.exception
    assert at.session_state[key] == t(label, lang="zh") and at.query_params[key] == tab

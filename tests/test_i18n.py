"""The two catalogs stay complete and every key the code uses exists."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from logitsviz import examples, i18n, sampling

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "app.py", *sorted((ROOT / "logitsviz").rglob("*.py"))]
# t("key"...), InputError("key"...), Where("kind"...) and f-string families such as t(f"preset.{name}")
LITERAL = re.compile(r"""\b(?:t|InputError)\(\s*["']([a-z_][a-z0-9_.]*)["']""")
WHERE = re.compile(r"""\bWhere\(\s*["']([a-z_]+)["']""")


def load(lang: str) -> dict[str, str]:
    return json.loads((ROOT / "logitsviz" / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        keys |= set(LITERAL.findall(text))
        keys |= {f"where.{kind}" for kind in WHERE.findall(text)}
    keys |= {f"preset.{name}" for name in examples.PRESETS}
    keys |= {f"decode.source.{name}" for name in (*examples.DECODING_PRESETS, "explorer")}
    keys |= {f"decode.order.{name}" for name in sampling.ORDERS}
    keys |= {f"decode.filter.{name}.{part}" for name in sampling.FILTERS for part in ("name", "short", "help", "formula")}
    keys |= {f"error.prefix.{p}" for p in ("paste", "upload", "table", "link")}
    return keys


def test_catalogs_have_the_same_keys():
    en, zh = load("en"), load("zh")
    assert set(en) - set(zh) == set(), "missing in zh.json"
    assert set(zh) - set(en) == set(), "missing in en.json"


def test_every_key_used_in_code_exists():
    missing = used_keys() - set(load("en"))
    assert not missing, f"keys used in code but not in the catalogs: {sorted(missing)}"


def test_the_key_scanner_finds_keys():
    # guard against a scanner that silently matches nothing
    assert {"explorer.title", "input.nan", "where.row_col", "args.temperature"} <= used_keys()


@pytest.mark.parametrize("key", sorted(load("en")))
def test_placeholders_match(key):
    en, zh = load("en")[key], load("zh")[key]
    if "\\" in en:
        # LaTeX: its braces are not placeholders, and t() formats it with no arguments
        assert "\\" in zh
        return

    def fields(text: str) -> set[str] | None:
        try:
            return {f for _, f, _, _ in string.Formatter().parse(text) if f}
        except ValueError:  # LaTeX braces: a text never formatted
            return None

    assert fields(en) == fields(zh), key
    assert zh.strip(), key


def test_chinese_is_chinese():
    zh, en = load("zh"), load("en")
    # every sentence is translated; only formula-like strings (the same in both) may be left
    texts = [v for k, v in zh.items() if len(v) > 12 and v != en[k]]
    assert len(texts) > 60
    with_han = [v for v in texts if re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", v)]
    assert len(with_han) == len(texts)


def test_t_fallbacks_and_context():
    assert i18n.t("explorer.title", lang="zh") == load("zh")["explorer.title"]
    assert i18n.t("no.such.key") == "no.such.key"
    i18n.set_language("zh")
    try:
        assert i18n.t("label.default", i=3) == "类别 3"
    finally:
        i18n.set_language("en")
    assert i18n.t("label.default", i=3) == "class 3"
    i18n.set_language("xx")
    assert i18n.get_language() == "en"

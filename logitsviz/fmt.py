"""Numbers and user text as the app, the figures and the command line print them: one place for each rule."""

from __future__ import annotations

import math
import re

__all__ = ["clip", "number", "plain"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def number(x: float, digits: int = 3, *, fixed: bool = False) -> str:
    """``x`` with ``digits`` decimals, in scientific form when very large or small; infinities as ∞.

    ``fixed`` keeps the decimals whatever the size (tables, tiles); NaN is an
    em dash, which reads as "no value" in both languages.

    >>> number(0.123456), number(12345.6), number(2e-5), number(float("-inf")), number(float("nan"))
    ('0.123', '1.23e+04', '2e-05', '−∞', '—')
    >>> number(12345.6, 2, fixed=True)
    '12345.60'
    """
    x = float(x)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if not fixed and (abs(x) >= 1e4 or (x != 0 and abs(x) < 1e-3)):
        return f"{x:.{digits}g}"
    return f"{x:.{digits}f}"


def clip(text: object, limit: int = 40) -> str:
    """User text for a message: control characters shown as ``?``, at most ``limit`` characters.

    >>> clip("a\\x00b"), clip("x" * 50, 10)
    ('a?b', 'xxxxxxxxx…')
    """
    text = _CONTROL.sub("?", str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(x: float) -> str:
    """``x`` for a terminal or a file another program reads: six significant digits, ``inf``/``-inf``/``nan`` spelt out.

    >>> plain(0.1234567), plain(float("-inf")), plain(2e-9)
    ('0.123457', '-inf', '2e-09')
    """
    x = float(x)
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return f"{x:.6g}"

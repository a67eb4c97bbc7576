"""The compact form :func:`format_logits` writes and :func:`parse_logits` reads back exactly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence

import numpy as np

from logitsviz.errors import InputError
from logitsviz.inputs.base import default_labels
from logitsviz.inputs.text import _split_pairs

_LINE_FORM_SEPARATORS = re.compile(r"[,;:=\n\r\t]")


# -------------------------------------------------------- format_logits ----


def _format_number(x: float) -> str:
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def format_logits(labels: Sequence[str] | None, logits, *, default_label: str = "class {i}") -> str:
    """The shortest text that :func:`parse_logits` reads back to the same labels and values.

    Default labels are left out; simple labels go on one line
    (``a:1,b:2``), labels with separators one per line, and labels even
    that would misread (``k=1,v``, ``#3``, `` padded ``) as a JSON object.

    >>> format_logits(["News", "Entertainment", "Technology"], [2.0, 1.0, 0.1])
    'News:2,Entertainment:1,Technology:0.1'
    >>> format_logits(None, [2.0, 1.0, -float("inf")])
    '2,1,-inf'
    >>> format_logits(None, [[1.0, 2.0], [3.0, -float("inf")]])
    '[[1, 2], [3, -inf]]'
    """
    arr = np.asarray(logits, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] > 1:
        return _format_rows(labels, arr, default_label)
    values = [_format_number(v) for v in arr.ravel().tolist()]
    if labels is None or list(labels) == default_labels(len(values), default_label):
        return ",".join(values)
    labels = [str(label) for label in labels]
    if all(_fits_one_line(label) for label in labels):
        return ",".join(f"{label}:{value}" for label, value in zip(labels, values))
    return _line_form(labels, values) or _json_form(labels, values)


def _format_rows(labels: Sequence[str] | None, arr: np.ndarray, default_label: str) -> str:
    """Rows: a nested list, or with class names ``{"labels": [...], "logits": [[...], ...]}`` (any label stays exact)."""
    rows = "[" + ", ".join("[" + ", ".join(_format_number(v) for v in row) + "]" for row in arr.tolist()) + "]"
    if labels is None or list(labels) == default_labels(arr.shape[1], default_label):
        return rows
    return '{"labels": ' + json.dumps([str(x) for x in labels], ensure_ascii=False) + ', "logits": ' + rows.replace("-inf", "-Infinity") + "}"


def _fits_one_line(label: str) -> bool:
    return _LINE_FORM_SEPARATORS.search(label) is None and label == label.strip() and label[:1] not in ("", "#", "[", "{", "\ufeff")


def _line_form(labels: list[str], values: list[str]) -> str | None:
    """One ``label: value`` per line, if every line reads back as its label; else None."""
    lines = [f"{label}: {value}" for label, value in zip(labels, values)]
    if not all(label[:1] not in ("#", "\ufeff") and _reads_back(line, label) for line, label in zip(lines, labels)):
        return None
    text = "\n".join(lines)
    # text starting with a bracket is read as JSON: lead with a comment line instead
    return "# logits\n" + text if labels[0][:1] in ("[", "{") else text


def _json_form(labels: list[str], values: list[str]) -> str:
    """A JSON object: keeps any label exact (``k=1,v``, ``a:``, ``#1``, `` padded ``)."""
    items = (f"{json.dumps(label, ensure_ascii=False)}: {'-Infinity' if value == '-inf' else value}" for label, value in zip(labels, values))
    return "{" + ", ".join(items) + "}"


def _reads_back(line: str, label: str) -> bool:
    """Whether one ``label: value`` line is read as exactly that label (and one value)."""
    try:
        pairs = _split_pairs(line, 1)
    except InputError:
        return False
    return pairs is not None and len(pairs) == 1 and pairs[0][0] == label

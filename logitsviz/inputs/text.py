"""Pasted text: a vector printed by Python, numpy or PyTorch, JSON, lines of ``label value`` pairs, plain numbers,
and token ids typed by token or id. A print cut off inside its brackets is refused.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from logitsviz.errors import InputError, Phrase, Where, reject_nan_posinf
from logitsviz.fmt import clip
from logitsviz.inputs.base import (
    MAX_CLASSES,
    MAX_TEXT_CHARS,
    MB,
    _check_count,
    _check_labels,
    _check_not_all_masked,
    _check_shape,
    _entry,
    _to_float,
    default_labels,
)

# tensor(...), array(...), JAX's Array(...), optionally after a name: "logits: tensor(...)", "z = array(...)"
_WRAPPER = re.compile(r"^\s*(?:[A-Za-z_]\w*\s*[:=]\s*)?(?:[\w.]+\.)?(?:tensor|array|Tensor|Array)\s*\((.*)\)\s*$", re.DOTALL)


_ELLIPSIS = re.compile(r"\.\.\.|…")


# a print or a JSON list: the text opens with a bracket, or with tensor( / array( (after a name such as "logits:")
_PRINT_START = re.compile(r"^\s*(?:[A-Za-z_]\w*\s*[:=]\s*)?(?:\[|(?:[\w.]+\.)?(?:tensor|array|Tensor|Array)\s*\()")


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


_TRAILING_KWARGS = re.compile(r"\]\s*,\s*[A-Za-z_]\w*\s*=.*$", re.DOTALL)


_NUMBER_SPLIT = re.compile(r"[,;\s]+")


_PAIR = re.compile(r"^(.*)[:=]\s*(\S+)\s*$", re.DOTALL)


_TAIL_VALUE = re.compile(r"^(.*)[\s,:=;\t]+(\S+)$", re.DOTALL)


# --------------------------------------------------------- parse_logits ----


def parse_logits(text: str, *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """Read a vector of logits, or rows of them, from pasted text.

    Accepted forms
    --------------
    - numbers separated by commas, semicolons, spaces or new lines: ``2.0, 1.0, 0.1``
    - one ``label: value``, ``label = value``, ``label, value`` (CSV, quotes
      allowed: ``"Smith, J",2``) or ``label<TAB>value`` per line, or
      ``a: 1, b: 2`` on one line; labels may be any Unicode (a header line
      such as ``label,logit`` is skipped)
    - a JSON list ``[2, 1, 0.1]``, a list of ``[label, value]`` pairs, or an
      object ``{"News": 2.0, ...}``
    - numpy, torch and JAX prints: ``tensor([2.0, 1.0, 0.1])``, ``array([2., 1., 0.1], dtype=float32)``,
      ``Array([...], dtype=float32)``, also after a name (``logits: tensor(...)``)
    - rows: a nested print or JSON list of lists (``[[1.2, -0.3], [0.5, 2.0]]``),
      lines of numbers with the same count each (CSV rows, a header line of
      class names allowed), or ``{"labels": [...], "logits": [[...], ...]}``
    - ``-inf`` (also ``−inf``, ``-Infinity``) for a masked class

    A print shortened with ``...`` is refused with how to print it in full.

    Parameters
    ----------
    text : str
        What the user pasted.
    default_label : str
        Template for missing labels; ``{i}`` is the class index.

    Returns
    -------
    labels : list of str
        One per class (column).
    logits : numpy.ndarray of float64, shape (C,), or (N, C) for rows

    Raises
    ------
    InputError
        Empty input, NaN, ``+inf`` or a literal too large for float64,
        something that is not a number, duplicate or empty labels, rows of
        different lengths, a 3-D array, a shortened print, or more than
        ``MAX_CLASSES`` classes or ``MAX_ELEMENTS`` values; the message names
        the line or entry.

    Examples
    --------
    >>> parse_logits("2.0, 1.0, 0.1")
    (['class 0', 'class 1', 'class 2'], array([2. , 1. , 0.1]))
    >>> parse_logits("cat: 3\\ndog: 1.5\\n猫: -inf")
    (['cat', 'dog', '猫'], array([ 3. ,  1.5, -inf]))
    >>> parse_logits('"Smith, J",2\\nB,1')
    (['Smith, J', 'B'], array([2., 1.]))
    >>> parse_logits("tensor([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]])")[1]
    array([[ 1.2, -0.3,  4.1],
           [ 0.5,  2. , -1. ]])
    """
    if not isinstance(text, str):
        raise InputError("input.not_text")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError("input.text_too_long", limit=f"{MAX_TEXT_CHARS // MB} MB")
    text = text.lstrip("\ufeff").strip()
    if not text:
        raise InputError("input.empty")

    labels, values = _parse_text(text)
    _check_count(values.shape[-1] if values.size else 0)
    _check_shape(values.shape)
    for row in np.atleast_2d(values):
        _check_not_all_masked(row)
    if labels is None:
        return default_labels(values.shape[-1], default_label), values
    if len(labels) != values.shape[-1]:
        raise InputError("input.label_count", n=len(labels), m=values.shape[-1])
    _check_labels(labels)
    return labels, values


def _check_brackets(text: str) -> None:
    """A print or JSON list whose brackets do not close was cut off (a copy that stopped early): refuse it, never read less.

    >>> _check_brackets("[[1, 2], [3")
    Traceback (most recent call last):
    ...
    logitsviz.errors.InputError: The print stops before its brackets close (2 “[” or “(” still open): it was cut off, and the values after the cut are missing. Copy the whole print.
    """
    if not _PRINT_START.match(text):
        return
    bare = _QUOTED.sub("", text)  # brackets inside labels are text, not structure
    depth = 0
    for ch in bare:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
            if depth < 0:
                raise InputError("input.unbalanced")
    if depth > 0:
        raise InputError("input.cut_off", open=depth)


def _parse_text(text: str) -> tuple[list[str] | None, np.ndarray]:
    """Pick the reader by the text's first characters: a tensor print, a JSON object or list, or lines."""
    _check_brackets(text)
    m = _WRAPPER.match(text)
    if m:
        return None, _parse_bracketed(m.group(1))
    if text[0] == "{":
        return _parse_json_object(text)
    table = _number_rows(text)
    if table is not None:
        return table
    if text[0] == "[":
        return _parse_json_list(text)
    return _parse_lines(text)


def _parse_plain_numbers(text: str, where: Callable[[int], Where] = _entry) -> np.ndarray | None:
    """Fast path for a bare list of numbers; None if any token is not a number."""
    tokens = [tok for tok in _NUMBER_SPLIT.split(text) if tok]
    if not tokens:
        return None
    if len(tokens) > MAX_CLASSES:
        _check_count(len(tokens))
    try:
        values = np.array(tokens, dtype=np.float64)
    except (ValueError, OverflowError):
        parsed = [_to_float(tok) for tok in tokens]
        if any(v is None for v in parsed):
            return None
        values = np.array(parsed, dtype=np.float64)
    reject_nan_posinf(values, where, tokens)
    return values


def _parse_bracketed(inner: str) -> np.ndarray:
    """The inside of ``tensor(...)`` / ``array(...)``: a bracketed list, or a list of rows (one row comes back 1-D)."""
    inner = _TRAILING_KWARGS.sub("]", inner.strip())
    if _ELLIPSIS.search(inner):  # torch and numpy shorten large prints: the values in between are not there
        raise InputError("input.truncated")
    depth = _depth(inner)
    if depth > 2:
        raise InputError("file.ndim", ndim=depth)
    rows = re.findall(r"\[([^\[\]]*)\]", inner) if depth == 2 else []
    rows = rows or [inner.replace("[", " ").replace("]", " ")]  # one vector, or brackets that do not pair up
    values = [_bracketed_row(body, i, len(rows)) for i, body in enumerate(rows)]
    if len(values) == 1:
        return values[0]
    _check_rows_equal([v.size for v in values])
    return np.stack(values)


def _bracketed_row(body: str, i: int, n_rows: int) -> np.ndarray:
    tokens = [tok for tok in _NUMBER_SPLIT.split(body) if tok]
    if not tokens:
        raise InputError("input.empty")
    where = (lambda j: Where("row_col", row=i + 1, col=j + 1)) if n_rows > 1 else _entry
    values = _parse_plain_numbers(body, where)
    if values is None:
        bad = next(tok for tok in tokens if _to_float(tok) is None)
        raise InputError("input.not_number", where=Where("row", n=i + 1) if n_rows > 1 else Where("input"), token=clip(bad))
    return values


def _depth(nested: str) -> int:
    """How deeply brackets nest: ``[1, 2]`` is 1, ``[[1, 2], [3, 4]]`` is 2."""
    depth = deepest = 0
    for ch in nested:
        if ch == "[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == "]":
            depth -= 1
    return deepest


def _check_rows_equal(lengths: list[int]) -> None:
    """Rows of one matrix: the same number of values each; the first row that differs is named."""
    bad = next((i for i, n in enumerate(lengths) if n != lengths[0]), None)
    if bad is not None:
        raise InputError("file.ragged", row=bad + 1, n=lengths[bad], expected=lengths[0])


def _number_rows(text: str) -> tuple[list[str] | None, np.ndarray] | None:
    """Lines of numbers with the same count (two or more) each, after an optional header of class names; else None."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) < 2:
        return None
    header = lines[0] if _looks_like_header(lines[0]) else None
    rows = _numeric_lines(lines[1:] if header is not None else lines)
    if rows is None:
        return None
    labels = _header_labels(header, rows[0].size) if header is not None else None
    if header is not None and labels is None:
        return None  # a header that does not name every column: not a table of rows
    return labels, (np.stack(rows) if len(rows) > 1 else rows[0])


def _numeric_lines(lines: list[str]) -> list[np.ndarray] | None:
    """Each line as numbers, all of one length of two or more; None when a line holds words or there are no rows."""
    if not lines or _parse_plain_numbers(lines[0].replace("nan", "0").replace("inf", "0")) is None:
        return None
    rows = [_parse_plain_numbers(line, lambda j, i=i: Where("row_col", row=i + 1, col=j + 1)) for i, line in enumerate(lines)]
    if any(r is None for r in rows) or rows[0].size < 2:
        return None
    _check_rows_equal([r.size for r in rows])
    return rows


def _header_labels(header: str, width: int) -> list[str] | None:
    delimiter = "\t" if "\t" in header else ("," if "," in header else (";" if ";" in header else None))
    try:
        fields = next(csv.reader([header], delimiter=delimiter)) if delimiter else header.split()
    except csv.Error:
        return None
    fields = [f.strip() for f in fields]
    return fields if len(fields) == width and all(fields) else None


# ------------------------------------------------------------------ JSON ----


def _json_value(value, where: Where) -> float:
    """One JSON value as a logit: a number, or a string spelling one (``"-inf"``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError("input.not_number", where=where, token=clip(json.dumps(value, ensure_ascii=False)))
    if isinstance(value, str):
        number = _to_float(value)
        if number is None:
            raise InputError("input.not_number", where=where, token=clip(value))
    else:
        try:
            number = float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            number = math.inf if value > 0 else -math.inf
    reject_nan_posinf(np.array([number]), lambda _: where, [str(value)])
    return number


def _load_json(text: str, object_pairs_hook=None):
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise InputError("input.bad_json", detail=Phrase.of("json.deep")) from None
    except json.JSONDecodeError as exc:
        raise InputError("input.bad_json", detail=Phrase.of("json.at", line=exc.lineno, col=exc.colno)) from None


def _parse_json_object(text: str) -> tuple[list[str] | None, np.ndarray]:
    pairs = _load_json(text, lambda pairs: pairs)  # pairs, not a dict: duplicate labels stay visible
    keys = [k for k, _ in pairs] if isinstance(pairs, list) else []
    if "logits" in keys and all(k in ("labels", "logits") for k in keys):
        return _labelled_matrix(dict(pairs))
    if not isinstance(pairs, list):
        raise InputError("input.bad_json", detail=Phrase.of("json.object"))
    if len(pairs) > MAX_CLASSES:
        _check_count(len(pairs))
    labels = [str(k) for k, _ in pairs]
    values = np.array([_json_value(v, Where("key", label=clip(k))) for k, v in pairs], dtype=np.float64)
    return labels, values


def _labelled_matrix(doc: dict) -> tuple[list[str] | None, np.ndarray]:
    """``{"labels": [...], "logits": [...] or [[...], ...]}``: the form format_logits writes for labelled rows."""
    labels = doc.get("labels")
    if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
        raise InputError("input.bad_json", detail=Phrase.of("json.labels"))
    data = doc["logits"]
    if not isinstance(data, list) or not data:
        raise InputError("input.bad_json", detail=Phrase.of("json.logits"))
    rows = data if all(isinstance(r, list) for r in data) else [data]
    _check_rows_equal([len(r) for r in rows])
    values = np.array([[_json_value(v, Where("row_col", row=i + 1, col=j + 1)) for j, v in enumerate(r)] for i, r in enumerate(rows)],
                      dtype=np.float64)
    return labels, (values if len(rows) > 1 else values[0])


def _parse_json_list(text: str) -> tuple[list[str] | None, np.ndarray]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        # not JSON: a numpy-style list such as [2., 1., -inf] or [[...]]
        return None, _parse_bracketed(text)
    if not isinstance(data, list):
        raise InputError("input.bad_json", detail=Phrase.of("json.list"))
    if len(data) > MAX_CLASSES:
        _check_count(len(data))
    if data and all(isinstance(item, list) for item in data):
        if all(len(item) == 2 and isinstance(item[0], str) for item in data):
            labels = [item[0] for item in data]
            return labels, np.array([_json_value(v, Where("key", label=clip(k))) for k, v in data], dtype=np.float64)
        return _labelled_matrix({"logits": data})
    return None, np.array([_json_value(v, _entry(i)) for i, v in enumerate(data)], dtype=np.float64)


# ----------------------------------------------------------------- lines ----


def _parse_lines(text: str) -> tuple[list[str] | None, np.ndarray]:
    """Numbers, or one labelled value (or several ``a: 1, b: 2``) per line; comments and a header skipped."""
    plain = _parse_plain_numbers(text)
    if plain is not None:
        return None, plain
    labels: list[str] = []
    values: list[float] = []
    unlabelled_lines: list[int] = []
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        read = _read_line(line, lineno)
        if read is None:
            if not values and _looks_like_header(line) and lineno < len(lines):
                continue
            raise InputError("input.not_number", where=Where("line", n=lineno), token=clip(_first_non_number(line)))
        line_labels, line_values = read
        if line_labels is None:
            unlabelled_lines.append(lineno)
        labels.extend(line_labels or [""] * len(line_values))
        values.extend(line_values)
        if len(values) > MAX_CLASSES:
            _check_count(len(values))
    if unlabelled_lines and any(labels):
        raise InputError("input.mixed_labels", line=unlabelled_lines[0])
    return (labels if any(labels) else None), np.array(values, dtype=np.float64)


def _read_line(line: str, lineno: int) -> tuple[list[str] | None, list[float]] | None:
    """``(labels, values)`` of one line: bare numbers (labels None) or labelled pairs; None if it is neither."""
    numbers = _parse_plain_numbers(line, where=lambda i: Where("line_entry", line=lineno, n=i + 1))
    if numbers is not None:
        return None, numbers.tolist()
    pairs = _split_pairs(line, lineno)
    if pairs is None:
        return None
    return [label for label, _ in pairs], [value for _, value in pairs]


def _split_pairs(line: str, lineno: int) -> list[tuple[str, float]] | None:
    """``"quoted, label",value`` (CSV), ``a: 1, b: 2`` (several pairs) or ``label, value`` (one); None if none fits."""
    candidates = (_csv_pair(line), _several_pairs(line), _tail_pair(line))
    pairs = next((p for p in candidates if p), None)
    if pairs is None:
        return None
    return [(label, _line_value(token, lineno)) for label, token in pairs]


def _csv_pair(line: str) -> list[tuple[str, str]] | None:
    """A CSV row of two fields, the second a number: quotes keep separators inside the label."""
    if '"' not in line:
        return None
    try:
        fields = next(csv.reader([line], delimiter="\t" if "\t" in line else ",", skipinitialspace=True), [])
    except csv.Error:  # a field over csv's size limit: not a label,value row
        return None
    if len(fields) == 2 and fields[0].strip() and _to_float(fields[1]) is not None:
        return [(fields[0], fields[1])]
    return None


def _several_pairs(line: str) -> list[tuple[str, str]] | None:
    fields = [f for f in re.split(r"[,;]", line) if f.strip()]
    if len(fields) < 2:
        return None
    matches = [_PAIR.match(field.strip()) for field in fields]
    if not all(m and _to_float(m.group(2)) is not None for m in matches):
        return None
    return [(m.group(1).strip(), m.group(2)) for m in matches]


def _tail_pair(line: str) -> list[tuple[str, str]] | None:
    m = _TAIL_VALUE.match(line)
    if not m or _to_float(m.group(2)) is None:
        return None
    # the label is everything before the value, less one separator ("News:", "News,")
    label = m.group(1).strip()
    if label[-1:] in (":", "=", ",", ";"):
        label = label[:-1].strip()
    return [(label, m.group(2))]


def _line_value(token: str, lineno: int) -> float:
    value = _to_float(token)
    reject_nan_posinf(np.array([value]), lambda _: Where("line", n=lineno), [token])
    return value


def _looks_like_header(line: str) -> bool:
    """A line of words only (``label,logit``, ``cat dog bird``): no field of it is a number."""
    return all(_to_float(tok) is None for tok in re.split(r"[,;\t ]+", line) if tok.strip())


def _first_non_number(line: str) -> str:
    return next((tok for tok in _NUMBER_SPLIT.split(line) if tok and _to_float(tok) is None), line)


def parse_token_ids(text: str, labels: Sequence[str]) -> tuple[int, ...]:
    """Token ids from what a user typed: tokens by their text or by id, separated by spaces or commas.

    A word that is a token's text is that token (the first with that text; "was" also finds "␣was", the
    token with a leading space); otherwise a whole number is an id. Anything else, or an id outside the vocabulary, is an :class:`InputError` naming the word and its place.

    >>> parse_token_ids("cat, 2 the", ["the", "cat", "sat"])
    (1, 2, 0)
    """
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    if not words:
        return ()
    index: dict[str, int] = {}
    for i, label in enumerate(labels):
        index.setdefault(label.strip(), i)
    for i, label in enumerate(labels):  # "was" finds "␣was" (a leading space shown as ␣) when no token is exactly "was"
        index.setdefault(label.replace("␣", "").strip(), i)
    ids = []
    for n, word in enumerate(words):
        if word in index:
            ids.append(index[word])
        elif word.isdigit() and int(word) < len(labels):
            ids.append(int(word))
        else:
            raise InputError("input.token_unknown", token=word[:40], where=_entry(n), n=f"{len(labels):,}")
    return tuple(ids)

"""Reading logits the way people paste and upload them, with messages that say what and where.

``parse_logits(text)`` reads one vector of logits, with or without class
names; ``format_logits`` writes the compact form it reads back;
``load_array(data, filename)`` reads a file into an array. Delimited text is
read with the :mod:`csv` module, so quoted labels (``"Smith, J",2``) keep
their commas. Whatever the input, the only exception that leaves this module
is :class:`InputError`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from logitsviz import config
from logitsviz.errors import InputError, Phrase, Where, reject_nan_posinf
from logitsviz.fmt import clip

__all__ = [
    "MAX_CLASSES",
    "MAX_ELEMENTS",
    "MAX_TEXT_CHARS",
    "MAX_UPLOAD_BYTES",
    "SUPPORTED_EXTENSIONS",
    "InputError",
    "default_labels",
    "format_logits",
    "load_array",
    "logits_from_array",
    "parse_logits",
    "read_vector_file",
    "read_eval_set",
    "validate_pairs",
    "vector_from_array",
]

# every limit is set in one place, logitsviz.config (environment variables with safe defaults)
_LIMITS = config.limits()
MAX_CLASSES = _LIMITS.classes  # one vector; LLM vocabularies are ~30k-260k
MB = 1_000_000  # as the browser's file uploader counts a megabyte (on Linux and macOS)
MAX_TEXT_CHARS = _LIMITS.text_mb * MB
MAX_UPLOAD_BYTES = _LIMITS.upload_mb * MB  # Streamlit's server.maxUploadSize is the same number of MB
MAX_ELEMENTS = _LIMITS.values  # numbers in one array: an evaluation set's N x C
SUPPORTED_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".json", ".txt")

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
_LINE_FORM_SEPARATORS = re.compile(r"[,;:=\n\r\t]")


def default_labels(n: int, template: str = "class {i}") -> list[str]:
    """Names for unlabelled classes: ``class 0``, ``class 1``, …

    >>> default_labels(3)
    ['class 0', 'class 1', 'class 2']
    """
    return [template.format(i=i) for i in range(n)]


# ------------------------------------------------------------- numbers ----


def _to_float(token: str) -> float | None:
    """The float a token spells, or None if it is not a number.

    People paste typographic minus signs and infinity symbols from papers.
    """
    try:
        return float(token.strip().replace("\u2212", "-").replace("\u2013", "-").replace("∞", "inf"))
    except (ValueError, OverflowError):
        return None


def _check_count(n: int) -> None:
    if n == 0:
        raise InputError("input.empty")
    if n > MAX_CLASSES:
        raise InputError("input.too_many", n=f"{n:,}", limit=f"{MAX_CLASSES:,}")


def _check_not_all_masked(values: np.ndarray) -> None:
    # every class masked leaves nothing for softmax to normalise
    if values.size and np.all(values == -np.inf):
        raise InputError("input.all_masked")


def _entry(i: int) -> Where:
    return Where("entry", n=i + 1)


def _row_col(row: int, col: int) -> Where:
    return Where("row_col", row=row + 1, col=col + 1)


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


def _check_labels(labels: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not label.strip():
            raise InputError("input.empty_label", index=i + 1)
        if label in seen:
            raise InputError("input.duplicate_label", label=clip(label), first=seen[label] + 1, second=i + 1)
        seen[label] = i


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


# ------------------------------------------------------------ load_array ----


def _checked_extension(data: bytes, filename: str) -> str:
    """The file's extension, once it is known to be supported and the data is within the size limit."""
    name = str(filename or "")
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in SUPPORTED_EXTENSIONS:
        raise InputError("file.extension", name=clip(name), supported=", ".join(SUPPORTED_EXTENSIONS))
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError("file.too_large", size=f"{len(data) / MB:.1f} MB", limit=f"{MAX_UPLOAD_BYTES // MB} MB")
    return ext


def load_array(data: bytes, filename: str) -> np.ndarray:
    """Read an uploaded file into a 1-D or 2-D numeric array.

    Parameters
    ----------
    data : bytes
        The file's contents.
    filename : str
        Its name; the extension picks the reader: .npy, .npz (the array named
        ``logits``, or the only one), .csv, .tsv, .txt (numbers; a header row
        is skipped), .json (a list, a list of lists, or ``{"logits": ...}``).

    Returns
    -------
    numpy.ndarray
        Floating arrays keep their dtype; integers become int64.

    Raises
    ------
    InputError
        Unsupported extension, a file over ``MAX_UPLOAD_BYTES``, more than 2
        dimensions or ``MAX_ELEMENTS`` values (checked from the header before
        anything is loaded), pickled or non-numeric data, ragged rows, NaN or
        ``+inf`` (named by row and column).

    Examples
    --------
    >>> load_array(b"1,2,3\\n4,5,6\\n", "x.csv")
    array([[1., 2., 3.],
           [4., 5., 6.]])
    """
    name = str(filename or "")
    ext = _checked_extension(data, name)
    if not data:
        raise InputError("file.empty", name=clip(name))
    try:
        arr = _READERS[ext](data, ext)
    except InputError:
        raise
    except (ValueError, TypeError, OSError, EOFError, KeyError, OverflowError, MemoryError, zipfile.BadZipFile, RecursionError,
            csv.Error):
        # why, in the reader's language: numpy's and zipfile's own messages are English ("the magic string is not correct")
        raise InputError("file.unreadable", name=clip(name), detail=Phrase.of(_WHY_UNREADABLE.get(ext, "file.why.content"), ext=ext)) from None
    return _finish_array(arr)


_WHY_UNREADABLE = {".npy": "file.why.npy", ".npz": "file.why.npz"}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("file.not_utf8", position=exc.start) from None


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) == 0 or len(shape) > 2:
        raise InputError("file.ndim", ndim=len(shape))
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        raise InputError("file.too_many_values", n=f"{n:,}", limit=f"{MAX_ELEMENTS:,}")
    if n == 0:
        raise InputError("input.empty")


def npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    """``(shape, dtype)`` from the header of an ``.npy`` stream, reading nothing else; only numbers are accepted."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version in ((2, 0), (3, 0)):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:  # pragma: no cover - numpy refuses unknown versions in read_magic
        raise InputError("file.unreadable", name=".npy", detail=f"version {version}")
    if dtype.hasobject or dtype.kind not in "biuf":
        raise InputError("file.dtype", dtype=str(dtype))
    return tuple(shape), dtype


def _load_npy(fh) -> np.ndarray:
    # read and check the header first: shape and dtype are known before any data is read
    shape, _dtype = npy_header(fh)
    _check_shape(shape)
    fh.seek(0)
    # a file object is read in chunks into the new array (numpy's read_array), never whole into memory first
    return np.lib.format.read_array(fh, allow_pickle=False)


def _npz_member(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    """One array of an open .npz, decompressed straight into the array: its checked header bounds what is read
    (a zip bomb stops there), and no copy of the member's bytes is made on the way."""
    with zf.open(name + ".npy") as member:
        return _load_npy(member)


def _load_npz(data: bytes, _ext: str = ".npz") -> np.ndarray:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError("file.npz_empty")
        if "logits" in names:
            return _npz_member(zf, "logits")
        if len(names) == 1:
            return _npz_member(zf, names[0])
        raise InputError("file.npz_which", names=", ".join(sorted(names)[:10]))


def _load_json_array(data: bytes, _ext: str = ".json") -> np.ndarray:
    doc = _load_json(_decode(data))
    if isinstance(doc, dict):
        if "logits" not in doc:
            raise InputError("file.json_key")
        doc = doc["logits"]
    if not isinstance(doc, list):
        raise InputError("input.bad_json", detail=Phrase.of("json.numbers"))
    if doc and isinstance(doc[0], list):
        _check_rectangular(doc)
        _check_shape((len(doc), len(doc[0])))
        flat = [v for row in doc for v in row]
        return _json_numbers(flat).reshape(len(doc), -1)
    _check_shape((len(doc),))
    return _json_numbers(doc)


def _check_rectangular(rows: list) -> None:
    width = len(rows[0])
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != width:
            raise InputError("file.ragged", row=i + 1, n=len(row) if isinstance(row, list) else 1, expected=width)


def _json_numbers(flat: list) -> np.ndarray:
    for i, v in enumerate(flat):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError("input.not_number", where=_entry(i), token=clip(json.dumps(v, ensure_ascii=False)))
    return np.array(flat, dtype=np.float64)


def _table_rows(text: str, ext: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of each row that holds values: CSV/TSV through :mod:`csv`, .txt split on commas and blanks.

    Lines are read one at a time (no list of every line of a large file).
    """
    lines = _lines(text)
    if ext in (".csv", ".tsv"):
        rows = csv.reader(lines, delimiter="," if ext == ".csv" else "\t")
        split = ([field.strip() for field in row] for row in rows)
    else:
        split = ([tok for tok in _NUMBER_SPLIT.split(line) if tok] for line in lines)
    for lineno, fields in enumerate(split, start=1):
        if any(fields) and not fields[0].startswith("#"):
            yield lineno, fields


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (``\\n``, ``\\r\\n`` or ``\\r`` endings), one at a time, without copying the whole text.

    >>> list(_lines("a\\r\\nb\\n\\nc"))
    ['a', 'b', '', 'c']
    """
    if "\n" not in text:
        text = text.replace("\r", "\n")  # old Mac line endings; a file without any line break is one line anyway
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end
        yield text[start:end - 1] if end > start and text[end - 1] == "\r" else text[start:end]
        start = end + 1


def _load_text_table(data: bytes, ext: str) -> np.ndarray:
    """A table of numbers; a first row of words is a header. One row or one column comes back 1-D.

    Each row becomes numbers as it is read, so a large file never exists as
    Python strings or floats all at once: the peak is about twice the array.
    """
    rows: list[np.ndarray] = []
    width = 0
    for lineno, fields in _table_rows(_decode(data), ext):
        if not rows and all(_to_float(tok) is None for tok in fields):
            continue  # a header row
        if rows and len(fields) != width:
            raise InputError("file.ragged", row=lineno, n=len(fields), expected=width)
        width = len(fields)
        if width * (len(rows) + 1) > MAX_ELEMENTS:
            _check_shape((len(rows) + 1, width))
        rows.append(_row_numbers(fields, len(rows)))
    if not rows:
        raise InputError("input.empty")
    arr = np.vstack(rows)
    return arr.ravel() if 1 in arr.shape else arr


def _row_numbers(fields: list[str], row: int) -> np.ndarray:
    try:
        return np.array(fields, dtype=np.float64)
    except ValueError:
        numbers = [_to_float(tok) for tok in fields]
        if None in numbers:
            col = numbers.index(None)
            raise InputError("input.not_number", where=_row_col(row, col), token=clip(fields[col])) from None
        return np.array(numbers, dtype=np.float64)


_READERS: dict[str, Callable[[bytes, str], np.ndarray]] = {
    ".npy": lambda data, _ext: _load_npy(io.BytesIO(data)),
    ".npz": _load_npz,
    ".json": _load_json_array,
    ".csv": _load_text_table,
    ".tsv": _load_text_table,
    ".txt": _load_text_table,
}


def _finish_array(arr: np.ndarray) -> np.ndarray:
    _check_shape(arr.shape)
    if arr.dtype.kind in "biu":
        return arr.astype(np.int64)
    if arr.dtype.kind != "f":
        raise InputError("file.dtype", dtype=str(arr.dtype))
    reject_nan_posinf(arr, _row_col if arr.ndim == 2 else _entry)
    return arr


def validate_pairs(labels: Sequence[object], values: Sequence[object], *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """Check rows of (label, value) from an edited table; blank labels get default names.

    >>> validate_pairs(["a", None], [1.0, 2])
    (['a', 'class 1'], array([1., 2.]))
    """
    out_labels = [_cell_label(label) or default_label.format(i=i) for i, label in enumerate(labels)]
    arr = np.array([_cell_value(value, i) for i, value in enumerate(values)], dtype=np.float64)
    _check_count(arr.size)
    _check_not_all_masked(arr)
    _check_labels(out_labels)
    return out_labels, arr


def _cell_label(label: object) -> str:
    if label is None or (isinstance(label, float) and math.isnan(label)):
        return ""
    return " ".join(str(label).split())


def _cell_value(value: object, i: int) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InputError("input.missing_value", row=i + 1)
    number = _to_float(value) if isinstance(value, str) else float(value)
    if number is None:
        raise InputError("input.not_number", where=Where("row", n=i + 1), token=clip(str(value)))
    reject_nan_posinf(np.array([number]), lambda _: Where("row", n=i + 1), [str(value)])
    return number


def vector_from_array(arr: np.ndarray) -> np.ndarray:
    """One vector of logits from a loaded array: 1-D, or a single row or column.

    >>> vector_from_array(np.array([[1.0, 2.0]]))
    array([1., 2.])
    """
    if arr.ndim == 2 and 1 not in arr.shape:
        raise InputError("input.two_dimensional", rows=arr.shape[0])
    vec = np.asarray(arr, dtype=np.float64).ravel()
    _check_count(vec.size)
    _check_not_all_masked(vec)
    return vec


def logits_from_array(arr: np.ndarray) -> np.ndarray:
    """Logits from a loaded array: a vector (1-D, one row or one column), or rows ``(N, C)``.

    >>> logits_from_array(np.array([[1.0, 2.0]])), logits_from_array(np.eye(2)).shape
    (array([1., 2.]), (2, 2))
    """
    if arr.ndim == 2 and 1 not in arr.shape:
        values = np.asarray(arr, dtype=np.float64)
        _check_count(values.shape[1])
        for row in values:
            _check_not_all_masked(row)
        return values
    return vector_from_array(arr)


def read_vector_file(data: bytes, filename: str, *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """Labelled logits from an uploaded file: a vector ``(C,)``, or rows ``(N, C)``.

    Text files (.csv, .tsv, .txt, .json) are first read as pasted text, so
    ``label,logit`` rows keep their labels; otherwise, and for .npy/.npz,
    :func:`load_array` reads the array (see :func:`logits_from_array`).

    >>> read_vector_file(b"label,logit\\ncat,2\\ndog,1\\n", "x.csv")
    (['cat', 'dog'], array([2., 1.]))
    """
    name = str(filename or "")
    ext = _checked_extension(data, name)
    if ext in (".npy", ".npz"):
        values = logits_from_array(load_array(data, name))
        return default_labels(values.shape[-1], default_label), values
    text = _decode(data)
    table = _csv_vector(text, "\t" if ext == ".tsv" else ",") if ext in (".csv", ".tsv") else None
    if table is not None:
        return table
    try:
        return parse_logits(text, default_label=default_label)
    except InputError as first:
        try:
            values = logits_from_array(load_array(data, name))
        except InputError:
            raise first from None
        return default_labels(values.shape[-1], default_label), values


def _csv_vector(text: str, delimiter: str) -> tuple[list[str], np.ndarray] | None:
    """A two-column CSV of ``label,value`` rows, labels exactly as the :mod:`csv` module reads them.

    None when the file is not that shape (other column counts, or a first
    column of numbers only: then it is a table of numbers, not labels).
    """
    rows = _csv_pairs(text, delimiter)
    if rows is None or all(_to_float(label) is not None for _, label, _ in rows):
        return None
    labels = [label for _, label, _ in rows]
    values = np.array([_to_float(token) for _, _, token in rows], dtype=np.float64)
    reject_nan_posinf(values, lambda i: Where("line", n=rows[i][0]), [token for _, _, token in rows])
    _check_count(values.size)
    _check_not_all_masked(values)
    _check_labels(labels)
    return labels, values


def _csv_pairs(text: str, delimiter: str) -> list[tuple[int, str, str]] | None:
    """``(line number, label, value text)`` of every data row, if each has two fields and a number second; else None."""
    try:
        rows = [(n, row) for n, row in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1)
                if any(row) and not (len(row) == 1 and row[0].lstrip().startswith("#"))]
    except csv.Error:
        return None
    if rows and len(rows[0][1]) == 2 and _to_float(rows[0][1][1]) is None:
        rows = rows[1:]  # a header such as label,logit
    if not rows or any(len(row) != 2 or _to_float(row[1]) is None for _, row in rows):
        return None
    return [(n, row[0], row[1]) for n, row in rows]


def read_eval_set(logits_data: bytes, logits_name: str, labels_data: bytes | None = None,
                  labels_name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An evaluation set ``(logits (N, C), labels (N,))`` from uploaded files.

    Labels come from, in order: the labels file; a ``labels`` array in the
    logits' .npz; the last column of a CSV/TSV/TXT whose last column holds
    whole numbers. Shapes and values are checked by
    :mod:`logitsviz.calibration` when the set is used.

    >>> z, y = read_eval_set(b"2,1,0\\n0,3,1\\n", "eval.csv")
    >>> z.tolist(), y.tolist()
    ([[2.0, 1.0], [0.0, 3.0]], [0, 1])
    """
    name = str(logits_name or "")
    logits = load_array(logits_data, name)
    if logits.ndim == 1 and name.lower().endswith((".csv", ".tsv", ".txt")):
        logits = logits[None, :]  # one line of a text table is one example (found by a property test: it was refused)
    if logits.ndim != 2:
        raise InputError("calib.shape", shape=logits.shape)
    if labels_data is not None:
        labels = load_array(labels_data, labels_name or "labels.npy")
        labels = labels.ravel() if labels.ndim == 2 and 1 in labels.shape else labels
    elif name.lower().endswith(".npz"):
        labels = _npz_labels(logits_data)
    else:
        logits, labels = _labels_from_last_column(logits, name)
    if labels is None:
        raise InputError("calib.no_labels")
    return (logits if logits.dtype.kind == "f" else logits.astype(np.float64)), np.asarray(labels)


def _npz_labels(data: bytes) -> np.ndarray | None:
    """The ``labels`` array beside the logits in an .npz, or None."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return _finish_array(_npz_member(zf, "labels")) if "labels.npy" in zf.namelist() else None


def _labels_from_last_column(logits: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A text table whose last column holds class indices: ``(logits without it, labels)``; else no labels."""
    last = logits[:, -1]
    is_text = name.lower().endswith((".csv", ".tsv", ".txt"))
    if is_text and logits.shape[1] > 2 and np.all(last == np.round(last)) and last.min() >= 0:
        return logits[:, :-1], last.astype(np.int64)
    return logits, None


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

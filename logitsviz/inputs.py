"""Reading logits the way people paste and upload them, with messages that say what and where.

``parse_logits(text)`` reads one vector of logits, with or without class
names; ``format_logits`` writes the compact form it reads back;
``load_array(data, filename)`` reads a file into an array. Whatever the input,
the only exception that leaves this module is :class:`InputError`.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from collections.abc import Sequence

import numpy as np

from logitsviz.errors import InputError, Where

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
    "parse_logits",
    "read_vector_file",
    "read_eval_set",
    "validate_pairs",
    "vector_from_array",
]

MAX_CLASSES = 2_000_000  # one vector; LLM vocabularies are ~30k-260k
MAX_TEXT_CHARS = 64 * 1024 * 1024
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_ELEMENTS = 200_000_000  # a 100,000 x 1,000 evaluation set is 1e8
SUPPORTED_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".json", ".txt")

_WRAPPER = re.compile(r"^\s*(?:[\w.]+\.)?(?:tensor|array|Tensor)\s*\((.*)\)\s*$", re.DOTALL)
_TRAILING_KWARGS = re.compile(r"\]\s*,\s*[A-Za-z_]\w*\s*=.*$", re.DOTALL)
_NUMBER_SPLIT = re.compile(r"[,;\s]+")
_PAIR = re.compile(r"^(.*)[:=]\s*(\S+)\s*$", re.DOTALL)
_TAIL_VALUE = re.compile(r"^(.*)[\s,:=;\t]+(\S+)$", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def default_labels(n: int, template: str = "class {i}") -> list[str]:
    """Names for unlabelled classes: ``class 0``, ``class 1``, …

    >>> default_labels(3)
    ['class 0', 'class 1', 'class 2']
    """
    return [template.format(i=i) for i in range(n)]


# ------------------------------------------------------------- numbers ----


def _normalise_token(token: str) -> str:
    # people paste typographic minus signs and infinity symbols from papers
    return token.strip().replace("\u2212", "-").replace("\u2013", "-").replace("∞", "inf")


def _to_float(token: str) -> float | None:
    """The float a token spells, or None if it is not a number."""
    try:
        return float(_normalise_token(token))
    except (ValueError, OverflowError):
        return None


def _bad_value_error(value: float, token: str, where: Where) -> InputError:
    if math.isnan(value):
        return InputError("input.nan", where=where, token=_clip(token))
    if "inf" in token.lower() or "∞" in token:
        return InputError("input.posinf", where=where, token=_clip(token))
    return InputError("input.overflow", where=where, token=_clip(token))


def _clip(text: str, limit: int = 40) -> str:
    text = _CONTROL.sub("?", str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_values(values: np.ndarray, tokens: Sequence[str] | None, where_of) -> None:
    """Raise for the first NaN or +inf (including overflowed literals like 1e999)."""
    bad = np.isnan(values) | (values == np.inf)
    if bad.any():
        i = int(np.argmax(bad))
        token = tokens[i] if tokens is not None else repr(float(values[i]))
        raise _bad_value_error(float(values[i]), token, where_of(i))


def _check_count(n: int) -> None:
    if n == 0:
        raise InputError("input.empty")
    if n > MAX_CLASSES:
        raise InputError("input.too_many", n=f"{n:,}", limit=f"{MAX_CLASSES:,}")


def _check_not_all_masked(values: np.ndarray) -> None:
    # every class masked leaves nothing for softmax to normalise
    if values.size and np.all(values == -np.inf):
        raise InputError("input.all_masked")


# --------------------------------------------------------- parse_logits ----


def parse_logits(text: str, *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """Read one vector of logits from pasted text.

    Accepted forms
    --------------
    - numbers separated by commas, semicolons, spaces or new lines: ``2.0, 1.0, 0.1``
    - one ``label: value``, ``label = value``, ``label, value`` or
      ``label<TAB>value`` per line, or ``a: 1, b: 2`` on one line; labels may
      be any Unicode (a header line such as ``label,logit`` is skipped)
    - a JSON list ``[2, 1, 0.1]``, a list of ``[label, value]`` pairs, or an
      object ``{"News": 2.0, ...}``
    - numpy and torch reprs: ``tensor([2.0, 1.0, 0.1])``, ``array([2., 1., 0.1], dtype=float32)``
    - ``-inf`` (also ``−inf``, ``-Infinity``) for a masked class

    Parameters
    ----------
    text : str
        What the user pasted.
    default_label : str
        Template for missing labels; ``{i}`` is the class index.

    Returns
    -------
    labels : list of str
    logits : numpy.ndarray of float64, shape (C,)

    Raises
    ------
    InputError
        Empty input, NaN, ``+inf`` or a literal too large for float64,
        something that is not a number, duplicate or empty labels, a 2-D
        array, or more than ``MAX_CLASSES`` values; the message names the
        line or entry.

    Examples
    --------
    >>> parse_logits("2.0, 1.0, 0.1")
    (['class 0', 'class 1', 'class 2'], array([2. , 1. , 0.1]))
    >>> parse_logits("cat: 3\\ndog: 1.5\\n猫: -inf")
    (['cat', 'dog', '猫'], array([ 3. ,  1.5, -inf]))
    >>> parse_logits("tensor([2.0, 1.0, 0.1])")[1]
    array([2. , 1. , 0.1])
    """
    if not isinstance(text, str):
        raise InputError("input.not_text")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError("input.text_too_long", limit=f"{MAX_TEXT_CHARS // (1024 * 1024)} MB")
    text = text.lstrip("\ufeff").strip()
    if not text:
        raise InputError("input.empty")

    labels: list[str] | None
    m = _WRAPPER.match(text)
    if m:
        labels, values = None, _parse_bracketed(m.group(1))
    elif text[0] == "{":
        labels, values = _parse_json_object(text)
    elif text[0] == "[":
        labels, values = _parse_json_list(text)
    else:
        labels, values = _parse_lines(text)

    _check_count(len(values))
    _check_not_all_masked(values)
    if labels is None:
        labels = default_labels(len(values), default_label)
    else:
        _check_labels(labels)
    return labels, values


def _parse_plain_numbers(text: str, where=lambda i: Where("entry", n=i + 1)) -> np.ndarray | None:
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
    _check_values(values, tokens, where)
    return values


def _parse_bracketed(inner: str) -> np.ndarray:
    """The inside of ``tensor(...)`` / ``array(...)``: a (possibly nested) bracketed list."""
    inner = _TRAILING_KWARGS.sub("]", inner.strip())
    depth = 0
    rows = 0
    for ch in inner:
        if ch == "[":
            depth += 1
            if depth == 2:
                rows += 1
        elif ch == "]":
            depth -= 1
    if rows > 1:
        raise InputError("input.two_dimensional", rows=rows)
    body = inner.replace("[", " ").replace("]", " ")
    if not any(_NUMBER_SPLIT.split(body)):
        raise InputError("input.empty")
    values = _parse_plain_numbers(body)
    if values is None:
        bad = next(tok for tok in _NUMBER_SPLIT.split(body) if tok and _to_float(tok) is None)
        raise InputError("input.not_number", where=Where("input"), token=_clip(bad))
    return values


def _json_value(value, where: Where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError("input.not_number", where=where, token=_clip(json.dumps(value, ensure_ascii=False)))
    if isinstance(value, str):
        number = _to_float(value)
        if number is None:
            raise InputError("input.not_number", where=where, token=_clip(value))
    else:
        try:
            number = float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            number = math.inf if value > 0 else -math.inf
    if math.isnan(number) or number == math.inf:
        raise _bad_value_error(number, str(value), where)
    return number


def _load_json(text: str, object_pairs_hook=None):
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise InputError("input.bad_json", detail="nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise InputError("input.bad_json", detail=f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _parse_json_object(text: str) -> tuple[list[str], np.ndarray]:
    def pairs_hook(pairs):
        return pairs  # keep duplicates visible

    pairs = _load_json(text, pairs_hook)
    if not isinstance(pairs, list):
        raise InputError("input.bad_json", detail="expected an object of label: value")
    if len(pairs) > MAX_CLASSES:
        _check_count(len(pairs))
    labels = [str(k) for k, _ in pairs]
    values = np.array([_json_value(v, Where("key", label=_clip(k))) for k, v in pairs], dtype=np.float64)
    return labels, values


def _parse_json_list(text: str) -> tuple[list[str] | None, np.ndarray]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        # not JSON: a numpy-style list such as [2., 1., -inf] or [[...]]
        return None, _parse_bracketed(text)
    if not isinstance(data, list):
        raise InputError("input.bad_json", detail="expected a list")
    if len(data) > MAX_CLASSES:
        _check_count(len(data))
    if data and all(isinstance(item, list) for item in data):
        if all(len(item) == 2 and isinstance(item[0], str) for item in data):
            labels = [item[0] for item in data]
            values = np.array([_json_value(item[1], Where("key", label=_clip(item[0]))) for item in data], dtype=np.float64)
            return labels, values
        if len(data) == 1:
            data = data[0]
        else:
            raise InputError("input.two_dimensional", rows=len(data))
    values = np.array([_json_value(v, Where("entry", n=i + 1)) for i, v in enumerate(data)], dtype=np.float64)
    return None, values


def _parse_lines(text: str) -> tuple[list[str] | None, np.ndarray]:
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
        numbers = _parse_plain_numbers(line, where=lambda i, lineno=lineno: Where("line_entry", line=lineno, n=i + 1))
        if numbers is not None:
            values.extend(numbers.tolist())
            labels.extend([""] * len(numbers))
            unlabelled_lines.append(lineno)
            continue
        pairs = _split_pairs(line, lineno)
        if pairs is None:
            if not values and _looks_like_header(line) and lineno < len(lines):
                continue
            token = _first_non_number(line)
            raise InputError("input.not_number", where=Where("line", n=lineno), token=_clip(token))
        for label, value in pairs:
            labels.append(label)
            values.append(value)
        if len(values) > MAX_CLASSES:
            _check_count(len(values))
    if unlabelled_lines and any(labels):
        raise InputError("input.mixed_labels", line=unlabelled_lines[0])
    arr = np.array(values, dtype=np.float64)
    return (labels if any(labels) else None), arr


def _split_pairs(line: str, lineno: int) -> list[tuple[str, float]] | None:
    """``a: 1, b: 2`` (several pairs) or ``label, value`` (one); None if neither."""
    fields = [f for f in re.split(r"[,;]", line) if f.strip()]
    if len(fields) > 1:
        pairs = []
        for field in fields:
            m = _PAIR.match(field.strip())
            if not m or _to_float(m.group(2)) is None:
                pairs = None
                break
            pairs.append((m.group(1).strip(), m.group(2)))
        if pairs:
            return [(label, _line_value(token, lineno)) for label, token in pairs]
    m = _TAIL_VALUE.match(line)
    if m and _to_float(m.group(2)) is not None:
        # the label is everything before the value, less one separator ("News:", "News,")
        label = m.group(1).strip()
        if label[-1:] in (":", "=", ",", ";"):
            label = label[:-1].strip()
        return [(label, _line_value(m.group(2), lineno))]
    return None


def _line_value(token: str, lineno: int) -> float:
    value = _to_float(token)
    assert value is not None  # callers checked
    if math.isnan(value) or value == math.inf:
        raise _bad_value_error(value, token, Where("line", n=lineno))
    return value


def _looks_like_header(line: str) -> bool:
    return all(_to_float(tok) is None for tok in re.split(r"[,;\t]", line) if tok.strip())


def _first_non_number(line: str) -> str:
    for tok in _NUMBER_SPLIT.split(line):
        if tok and _to_float(tok) is None:
            return tok
    return line


def _check_labels(labels: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not label.strip():
            raise InputError("input.empty_label", index=i + 1)
        if label in seen:
            raise InputError("input.duplicate_label", label=_clip(label), first=seen[label] + 1, second=i + 1)
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
    """
    values = [_format_number(v) for v in np.asarray(logits, dtype=np.float64).ravel().tolist()]
    if labels is None or list(labels) == default_labels(len(values), default_label):
        return ",".join(values)
    labels = [str(label) for label in labels]
    if all(re.search(r"[,;:=\n\r\t]", label) is None and label == label.strip() and label[:1] not in ("", "#", "[", "{", "\ufeff")
           for label in labels):
        return ",".join(f"{label}:{value}" for label, value in zip(labels, values))
    lines = [f"{label}: {value}" for label, value in zip(labels, values)]
    if all(label[:1] not in ("#", "\ufeff") and _reads_back(line, label) for line, label in zip(lines, labels)):
        text = "\n".join(lines)
        # text starting with a bracket is read as JSON: lead with a comment line instead
        return "# logits\n" + text if labels[0][:1] in ("[", "{") else text
    # labels the line forms would misread ("k=1,v", "a:", "#1", " padded "): a JSON object keeps them exact
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
        raise InputError("file.extension", name=_clip(name), supported=", ".join(SUPPORTED_EXTENSIONS))
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError("file.too_large", size=f"{len(data) / 2**20:.0f} MB", limit=f"{MAX_UPLOAD_BYTES // 2**20} MB")
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
        raise InputError("file.empty", name=_clip(name))
    try:
        if ext == ".npy":
            arr = _load_npy(io.BytesIO(data))
        elif ext == ".npz":
            arr = _load_npz(data)
        elif ext == ".json":
            arr = _load_json_array(_decode(data))
        else:
            arr = _load_text_table(_decode(data), ext)
    except InputError:
        raise
    except (ValueError, TypeError, OSError, EOFError, KeyError, OverflowError, MemoryError, zipfile.BadZipFile, RecursionError) as exc:
        raise InputError("file.unreadable", name=_clip(name), detail=_clip(str(exc) or type(exc).__name__, 160)) from None
    return _finish_array(arr)


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


def _load_npy(fh) -> np.ndarray:
    # read and check the header first: shape and dtype are known before any data is read
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version in ((2, 0), (3, 0)):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:  # pragma: no cover - numpy refuses unknown versions in read_magic
        raise InputError("file.unreadable", name=".npy", detail=f"version {version}")
    if dtype.hasobject or dtype.kind not in "biuf":
        raise InputError("file.dtype", dtype=str(dtype))
    _check_shape(tuple(shape))
    fh.seek(0)
    return np.load(fh, allow_pickle=False)


def _load_npz(data: bytes) -> np.ndarray:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
        if not names:
            raise InputError("file.npz_empty")
        if "logits" in names:
            key = "logits"
        elif len(names) == 1:
            key = names[0]
        else:
            raise InputError("file.npz_which", names=", ".join(sorted(names)[:10]))
        with zf.open(key + ".npy") as member:
            return _load_npy(io.BytesIO(member.read(MAX_UPLOAD_BYTES + 1)))


def _load_json_array(text: str) -> np.ndarray:
    data = _load_json(text)
    if isinstance(data, dict):
        if "logits" not in data:
            raise InputError("file.json_key")
        data = data["logits"]
    if not isinstance(data, list):
        raise InputError("input.bad_json", detail="expected a list of numbers")
    rows = data if data and isinstance(data[0], list) else None
    if rows is not None:
        width = len(rows[0])
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                raise InputError("file.ragged", row=i + 1, n=len(row) if isinstance(row, list) else 1, expected=width)
    flat = [v for row in rows for v in row] if rows is not None else data
    _check_shape((len(rows), len(rows[0])) if rows is not None else (len(data),))
    for i, v in enumerate(flat):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError("input.not_number", where=Where("entry", n=i + 1), token=_clip(json.dumps(v, ensure_ascii=False)))
    arr = np.array(flat, dtype=np.float64)
    return arr.reshape(len(rows), -1) if rows is not None else arr


def _load_text_table(text: str, ext: str) -> np.ndarray:
    delimiter = {".csv": ",", ".tsv": "\t"}.get(ext)
    rows: list[list[str]] = []
    width = None
    first_lineno = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = [tok.strip() for tok in line.split(delimiter)] if delimiter else [tok for tok in _NUMBER_SPLIT.split(line) if tok]
        if not rows and first_lineno is None and all(_to_float(tok) is None for tok in tokens):
            first_lineno = lineno  # a header row
            continue
        if width is None:
            width = len(tokens)
        elif len(tokens) != width:
            raise InputError("file.ragged", row=lineno, n=len(tokens), expected=width)
        if width * (len(rows) + 1) > MAX_ELEMENTS:
            _check_shape((len(rows) + 1, width))
        rows.append(tokens)
    if not rows:
        raise InputError("input.empty")
    flat = [tok for row in rows for tok in row]
    try:
        arr = np.array(flat, dtype=np.float64)
    except ValueError:
        for i, tok in enumerate(flat):
            if _to_float(tok) is None:
                raise InputError("input.not_number", where=Where("row_col", row=i // width + 1, col=i % width + 1), token=_clip(tok)) from None
        arr = np.array([_to_float(tok) for tok in flat], dtype=np.float64)
    arr = arr.reshape(len(rows), width)
    if arr.shape[0] == 1 or arr.shape[1] == 1:
        arr = arr.ravel()
    return arr


def _finish_array(arr: np.ndarray) -> np.ndarray:
    _check_shape(arr.shape)
    if arr.dtype.kind == "b" or arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind != "f":
        raise InputError("file.dtype", dtype=str(arr.dtype))
    bad = np.isnan(arr) | (arr == np.inf)
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), arr.shape)
        where = Where("row_col", row=idx[0] + 1, col=idx[1] + 1) if arr.ndim == 2 else Where("entry", n=idx[0] + 1)
        value = float(arr[idx])
        raise InputError("input.nan" if math.isnan(value) else "input.posinf", where=where, token=repr(value))
    return arr


def validate_pairs(labels: Sequence[object], values: Sequence[object], *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """Check rows of (label, value) from an edited table; blank labels get default names.

    >>> validate_pairs(["a", None], [1.0, 2])
    (['a', 'class 1'], array([1., 2.]))
    """
    out_labels: list[str] = []
    out_values: list[float] = []
    for i, (label, value) in enumerate(zip(labels, values)):
        text = "" if label is None or (isinstance(label, float) and math.isnan(label)) else " ".join(str(label).split())
        out_labels.append(text or default_label.format(i=i))
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InputError("input.missing_value", row=i + 1)
        number = _to_float(value) if isinstance(value, str) else float(value)
        if number is None:
            raise InputError("input.not_number", where=Where("row", n=i + 1), token=_clip(str(value)))
        if math.isnan(number) or number == math.inf:
            raise _bad_value_error(number, str(value), Where("row", n=i + 1))
        out_values.append(number)
    arr = np.array(out_values, dtype=np.float64)
    _check_count(arr.size)
    _check_not_all_masked(arr)
    _check_labels(out_labels)
    return out_labels, arr


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


def read_vector_file(data: bytes, filename: str, *, default_label: str = "class {i}") -> tuple[list[str], np.ndarray]:
    """One labelled vector from an uploaded file.

    Text files (.csv, .tsv, .txt, .json) are first read as pasted text, so
    ``label,logit`` rows keep their labels; otherwise, and for .npy/.npz,
    :func:`load_array` reads a 1-D array or a single row or column.

    >>> read_vector_file(b"label,logit\\ncat,2\\ndog,1\\n", "x.csv")
    (['cat', 'dog'], array([2., 1.]))
    """
    name = str(filename or "")
    ext = _checked_extension(data, name)
    if ext in (".npy", ".npz"):
        vec = vector_from_array(load_array(data, name))
        return default_labels(vec.size, default_label), vec
    text = _decode(data)
    try:
        return parse_logits(text, default_label=default_label)
    except InputError as first:
        try:
            vec = vector_from_array(load_array(data, name))
        except InputError:
            raise first from None
        return default_labels(vec.size, default_label), vec


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
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    labels = None
    if labels_data is not None:
        labels = load_array(labels_data, labels_name or "labels.npy")
        if labels.ndim == 2 and 1 in labels.shape:
            labels = labels.ravel()
    if ext == ".npz" and labels is None:
        logits = load_array(logits_data, name)
        with zipfile.ZipFile(io.BytesIO(logits_data)) as zf:
            if "labels.npy" in zf.namelist():
                with zf.open("labels.npy") as member:
                    labels = _finish_array(_load_npy(io.BytesIO(member.read(MAX_UPLOAD_BYTES + 1))))
    else:
        logits = load_array(logits_data, name)
    if logits.ndim != 2:
        raise InputError("calib.shape", shape=logits.shape)
    if labels is None:
        last = logits[:, -1]
        if ext in (".csv", ".tsv", ".txt") and logits.shape[1] > 2 and np.all(last == np.round(last)) and last.min() >= 0:
            logits, labels = logits[:, :-1], last.astype(np.int64)
        else:
            raise InputError("calib.no_labels")
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float64)
    return logits, np.asarray(labels)

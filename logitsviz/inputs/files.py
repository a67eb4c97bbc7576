"""Uploaded files: ``.npy``, ``.npz``, ``.json``, ``.csv``, ``.tsv`` and ``.txt`` read into arrays with their sizes
checked before loading (numpy with ``allow_pickle=False``), vectors with labels, and evaluation sets.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from logitsviz.errors import InputError, Phrase, Where, reject_nan_posinf
from logitsviz.fmt import clip
from logitsviz.inputs.base import (
    MAX_ELEMENTS,
    MAX_UPLOAD_BYTES,
    MB,
    SUPPORTED_EXTENSIONS,
    _check_count,
    _check_labels,
    _check_not_all_masked,
    _check_shape,
    _entry,
    _row_col,
    _to_float,
    default_labels,
)
from logitsviz.inputs.text import _NUMBER_SPLIT, _load_json, parse_logits

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

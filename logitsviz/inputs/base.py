"""The size limits every reader enforces (from :func:`logitsviz.config.limits`) and the checks of numbers,
counts and labels they share.
"""

from __future__ import annotations

import math

import numpy as np

from logitsviz import config
from logitsviz.errors import InputError, Where
from logitsviz.fmt import clip

# every limit is set in one place, logitsviz.config (environment variables with safe defaults)
_LIMITS = config.limits()


MAX_CLASSES = _LIMITS.classes  # one vector; LLM vocabularies are ~30k-260k


MB = 1_000_000  # as the browser's file uploader counts a megabyte (on Linux and macOS)


MAX_TEXT_CHARS = _LIMITS.text_mb * MB


MAX_UPLOAD_BYTES = _LIMITS.upload_mb * MB  # Streamlit's server.maxUploadSize is the same number of MB


MAX_ELEMENTS = _LIMITS.values  # numbers in one array: an evaluation set's N x C


SUPPORTED_EXTENSIONS = (".npy", ".npz", ".csv", ".tsv", ".json", ".txt")


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


def _check_labels(labels: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if not label.strip():
            raise InputError("input.empty_label", index=i + 1)
        if label in seen:
            raise InputError("input.duplicate_label", label=clip(label), first=seen[label] + 1, second=i + 1)
        seen[label] = i


def _check_shape(shape: tuple[int, ...]) -> None:
    if len(shape) == 0 or len(shape) > 2:
        raise InputError("file.ndim", ndim=len(shape))
    n = math.prod(shape)
    if n > MAX_ELEMENTS:
        raise InputError("file.too_many_values", n=f"{n:,}", limit=f"{MAX_ELEMENTS:,}")
    if n == 0:
        raise InputError("input.empty")

"""The one exception bad input raises, where in the input it happened, and the check every reader shares."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["InputError", "Phrase", "Where", "reject_nan_posinf"]


class InputError(ValueError):
    """Bad user input or a bad argument value.

    The message says what is wrong and where (the line, the entry, the
    argument). ``key`` and ``params`` let the app show the same message in the
    user's language: ``logitsviz.i18n.t(err.key, **err.params)``.

    Examples
    --------
    >>> err = InputError("input.empty")
    >>> str(err)
    'The input is empty: paste or type at least one number.'
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, key: str, **params: Any) -> None:
        from logitsviz.i18n import t  # local import: i18n has no dependencies on us

        self.key = key
        self.params = params
        super().__init__(t(key, lang="en", **params))


@dataclass(frozen=True)
class Where:
    """Where in the input a problem is ("line 3", "row 2, column 5"), told in the reader's language.

    Kept as a value, not a string, so the app can show an error in Chinese
    although it was raised as the same ``InputError``. ``kind`` picks the
    phrase (``where.<kind>`` in the catalogues); the other fields fill it.

    >>> str(Where("row_col", row=2, col=5))
    'row 2, column 5'
    >>> Where("entry", n=2) == Where("entry", n=2)
    True
    """

    kind: str
    n: int | None = None
    row: int | None = None
    col: int | None = None
    line: int | None = None
    label: str | None = None

    def __str__(self) -> str:
        from logitsviz.i18n import t

        values = {f.name: getattr(self, f.name) for f in fields(self)[1:]}
        return t(f"where.{self.kind}", **{k: v for k, v in values.items() if v is not None})

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


@dataclass(frozen=True)
class Phrase:
    """A message kept as its catalogue key and parameters, told in the language current when it is shown.

    For what a library result says (a format's name inside an error, a
    warning on a sequence) that the app shows later, in either language.

    >>> str(Phrase("tok.format.ollama"))
    'Ollama format'
    """

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, key: str, **params: Any) -> Phrase:
        return cls(key, tuple(params.items()))

    def __str__(self) -> str:
        from logitsviz.i18n import t

        return t(self.key, **dict(self.params))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def reject_nan_posinf(values: np.ndarray, where: Callable[..., Where], tokens: Sequence[str] | None = None) -> None:
    """Raise :class:`InputError` for the first NaN or ``+inf`` in ``values`` (in C order), saying where it is.

    ``where(*index)`` names the place of an array index; ``tokens`` (the text
    each value was read from, flat) lets the message quote what the user
    typed and tell a literal too large for float64 (``1e999``) from ``inf``.

    >>> reject_nan_posinf(np.array([[1.0, 2.0], [np.nan, 0.0]]), lambda r, c: Where("row_col", row=r + 1, col=c + 1))
    Traceback (most recent call last):
    ...
    logitsviz.errors.InputError: row 2, column 1: “nan” is NaN (not a number). Every logit must be a real number; use -inf to mask a class.
    """
    with np.errstate(invalid="ignore"):
        bad = np.isnan(values) | (values == np.inf)
    if not bad.any():
        return
    flat = int(np.argmax(bad.ravel()))
    index = np.unravel_index(flat, values.shape)
    value = float(values[index])
    token = tokens[flat] if tokens is not None else repr(value)
    from logitsviz.fmt import clip

    place, shown = where(*(int(i) for i in index)), clip(token)
    if math.isnan(value):
        raise InputError("input.nan", where=place, token=shown)
    if tokens is None or "inf" in token.lower() or "∞" in token:
        raise InputError("input.posinf", where=place, token=shown)
    raise InputError("input.overflow", where=place, token=shown)

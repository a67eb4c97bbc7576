"""The one exception bad input raises."""

from __future__ import annotations

from typing import Any

__all__ = ["InputError"]


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


class Where:
    """Where in the input a problem is ("line 3", "row 2, column 5"), told in the reader's language.

    Kept as a value, not a string, so the app can show an error in Chinese
    although it was raised as the same ``InputError``.

    >>> str(Where("row_col", row=2, col=5))
    'row 2, column 5'
    """

    def __init__(self, kind: str, **nums: Any) -> None:
        self.kind = kind
        self.nums = nums

    def __str__(self) -> str:
        from logitsviz.i18n import t

        return t(f"where.{self.kind}", **self.nums)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Where({self.kind!r}, {self.nums!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Where) and (self.kind, self.nums) == (other.kind, other.nums)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(sorted(self.nums.items()))))

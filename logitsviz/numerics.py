"""The softmax family: from logits to probabilities, log-probabilities and losses.

Every function works along the last axis by default (``axis=-1``, like scipy,
torch and jax), broadcasts over leading axes, never modifies its input and
returns a new numpy array.

Dtypes: float32 and float64 stay as they are; float16 is computed in float32
and cast back (float16's exp overflows at 11.09); anything else becomes
float64.

Special values: ``-inf`` is a masked class (probability 0, log-probability
``-inf``). NaN and ``+inf`` are not logits: a row holding one comes back as NaN,
quietly, the way scipy and torch answer; ``logitsviz.inputs`` rejects them
before they get here. A row of only ``-inf`` has no distribution: NaN too.

The stable trick used throughout: for any constant ``c``,
``softmax(z) == softmax(z - c)``. Choosing ``c = max(z)`` makes the largest
exponent ``exp(0) = 1`` so nothing overflows, and at least one term of the sum
is 1 so nothing divides by zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from logitsviz.errors import InputError
from logitsviz.fmt import clip

__all__ = [
    "as_float",
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "log_softmax",
    "logsumexp",
    "naive_softmax",
    "sigmoid",
    "softmax",
]


# ---------------------------------------------------------------- helpers --


def _float_array(logits: ArrayLike) -> tuple[np.ndarray, np.dtype]:
    """Return ``(array to compute in, dtype to return)`` following the dtype rules."""
    arr = np.asarray(logits)
    if arr.dtype.kind == "c":
        raise InputError("args.complex", name="logits")
    if arr.dtype == np.float16:
        return arr.astype(np.float32), np.dtype(np.float16)
    if arr.dtype.kind == "f":
        return arr, arr.dtype
    try:
        return arr.astype(np.float64), np.dtype(np.float64)
    except (TypeError, ValueError):
        raise InputError("args.not_numeric", name="logits") from None


def as_float(logits: ArrayLike) -> np.ndarray:
    """Logits as a float array to compute in: float32 and float64 as they are, float16 as float32, whole numbers as
    float64; complex or non-numeric input raises :class:`~logitsviz.InputError`.

    >>> as_float([1, 2]).dtype, as_float(np.zeros(2, np.float16)).dtype
    (dtype('float64'), dtype('float32'))
    """
    return _float_array(logits)[0]


def _check_temperature(temperature: float) -> float:
    try:
        value = float(temperature)
    except (TypeError, ValueError):
        raise InputError("args.temperature", value=temperature) from None
    if not (np.isfinite(value) and value > 0):
        raise InputError("args.temperature", value=temperature)
    return value


def _scaled(logits: ArrayLike, temperature: float) -> tuple[np.ndarray, np.dtype]:
    """``logits / temperature`` as a fresh array we may overwrite."""
    z, out_dtype = _float_array(logits)
    temperature = _check_temperature(temperature)
    if temperature == 1.0:
        return np.array(z, copy=True), out_dtype
    return z / z.dtype.type(temperature), out_dtype


def _check_axis(z: np.ndarray, axis: int) -> int:
    if z.ndim == 0:
        raise InputError("args.scalar", name="logits")
    return _normalize_axis(axis, z.ndim)


def _normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise InputError("args.axis", axis=axis, ndim=ndim)
    return axis % ndim


_FAST_MIN_SIZE = 1 << 12  # below this, one vectorised expression beats the block path's set-up


_NARROW = 11  # rows this short are reduced column by column (numpy's per-row reduction loop costs more than the work);
# measured on 100,000 rows: 0.32x the time by row at 4 classes, 0.67x at 8, about even at 12-16, 1.3x at 20 (float32)


def _row_max(block: np.ndarray) -> np.ndarray:
    """Each row's max, as a column: for narrow rows one ``np.maximum`` per column over all rows (NaN propagates as in
    ``np.max``), else numpy's reduction."""
    if not 1 < block.shape[1] <= _NARROW:
        return np.max(block, axis=1, keepdims=True)
    top = block[:, :1].copy()
    for j in range(1, block.shape[1]):
        np.maximum(top[:, 0], block[:, j], out=top[:, 0])
    return top


def _row_sum(block: np.ndarray) -> np.ndarray:
    """Each row's sum: for narrow rows one addition per column over all rows, else einsum's SIMD sum (3x numpy's)."""
    if not 1 < block.shape[1] <= _NARROW:
        return np.einsum("ij->i", block)
    total = block[:, 0].copy()
    for j in range(1, block.shape[1]):
        total += block[:, j]
    return total


def _shift_rows(x: np.ndarray, rows: slice | np.ndarray, scale, out: np.ndarray) -> np.ndarray:
    """``out = x[rows] * scale - max`` row by row (step 1 of softmax: scale by 1/T, shift by the max); returns ``out``.

    ``scale`` is None at T = 1, which skips the multiply.
    """
    if scale is None:
        np.subtract(x[rows], _row_max(x[rows]), out=out)
    else:
        np.multiply(x[rows], scale, out=out)
        out -= _row_max(out)
    return out


def _rowwise(z: np.ndarray, axis: int, temperature: float, log: bool) -> np.ndarray | None:
    """softmax / log_softmax of a large float32/float64 array along its last axis, block by block.

    Each block of rows is shifted, exponentiated and normalised while it is in
    cache, on the thread pool, writing straight into the output: no
    whole-array temporaries. Returns None when this path does not apply.
    """
    if z.size < _FAST_MIN_SIZE or axis != z.ndim - 1 or z.dtype not in (np.float32, np.float64):
        return None
    from logitsviz import _parallel

    x = np.ascontiguousarray(z).reshape(-1, z.shape[-1])
    out = np.empty_like(x)
    scale = x.dtype.type(1.0 / temperature) if temperature != 1.0 else None

    def work(rows: slice) -> None:
        # a row holding NaN or +inf, or only -inf, comes back NaN as documented: its inf - inf is not a warning
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            o = out[rows]
            if log:  # log p = (z / T - max) - log sum exp(...): shifted first, so the top class's log p keeps its digits
                _shift_rows(x, rows, scale, o)
                o -= np.log(_row_sum(np.exp(o)))[:, None]
            else:
                total = _exp_rows(x, rows, scale, o)  # steps 1-2: exp(z / T - shift), the shift 0 or the max
                o *= (1.0 / total)[:, None]  # step 3: normalise

    _parallel.map_rows(x.shape[0], x.shape[1] * x.itemsize, work)
    return out.reshape(z.shape)


# exp(z) itself does not overflow while every z of a block is at most this: the sum of up to 2^20 such terms stays
# finite. With no shift, a row is as precise as with one when its sum of exp(z) is at least 1 (then a term that
# underflows is a probability that underflows too): such blocks skip finding each row's max (a pass over memory, and
# for narrow rows the slowest one).
_NO_SHIFT_LIMIT = {np.dtype(np.float32): 64.0, np.dtype(np.float64): 690.0}


def _exp_rows(x: np.ndarray, rows: slice, scale, out: np.ndarray) -> np.ndarray:
    """``out = exp(x[rows] * scale - shift)``; returns each row's sum of ``out``.

    The shift is 0 when the block's largest value is at most ``limit`` (see
    :data:`_NO_SHIFT_LIMIT`) and a row's sum comes to at least 1; any other
    row is shifted by its max, as in every stable softmax. A NaN, ``+inf`` or
    all ``-inf`` row takes the shifted path, which gives it NaN.
    """
    block = x[rows]
    big = np.max(block)
    if scale is not None:
        big = big * scale
    if big <= _NO_SHIFT_LIMIT[x.dtype]:  # False for NaN
        if scale is None:
            np.exp(block, out=out)
        else:
            np.multiply(block, scale, out=out)
            np.exp(out, out=out)
        total = _row_sum(out)
        redo = np.flatnonzero(~(total >= 1.0))  # rows whose terms could underflow unshifted (all -inf ones too)
        if redo.size:
            sub = out[redo]
            _shift_rows(block, redo, scale, sub)
            np.exp(sub, out=sub)
            out[redo] = sub
            total[redo] = _row_sum(sub)
        return total
    _shift_rows(x, rows, scale, out)
    np.exp(out, out=out)
    return _row_sum(out)


def _rowwise_entropy(z: np.ndarray, axis: int, temperature: float) -> np.ndarray | None:
    """Entropy (nats) of large float32/float64 arrays along the last axis, block by block, in one sweep.

    With ``s = z - max z``, ``e = exp(s)`` and ``S = sum e``:
    ``H = -sum p log p = log S - sum(e * s) / S``. A masked class has ``e = 0``
    and contributes 0 (its ``s = -inf`` is zeroed first, as ``0 log 0 = 0``).
    Returns None when this path does not apply.
    """
    if axis != z.ndim - 1 or z.dtype not in (np.float32, np.float64):
        return None
    from logitsviz import _parallel

    x = np.ascontiguousarray(z).reshape(-1, z.shape[-1])
    h = np.empty(x.shape[0], dtype=x.dtype)
    scale = x.dtype.type(1.0 / temperature) if temperature != 1.0 else None

    def work(rows: slice) -> None:
        # as in _rowwise: NaN, +inf and all-masked rows give NaN quietly
        with np.errstate(invalid="ignore", over="ignore"):
            s = _shift_rows(x, rows, scale, np.empty((rows.stop - rows.start, x.shape[1]), dtype=x.dtype))  # a block: stays in cache
            e = np.exp(s)
            total = np.sum(e, axis=1)
            np.copyto(s, 0.0, where=np.isneginf(s))  # masked classes: 0 * log 0 = 0
            e *= s
            h[rows] = np.log(total) - np.sum(e, axis=1) / total

    _parallel.map_rows(x.shape[0], x.shape[1] * x.itemsize, work)
    h += 0.0  # -0.0 (a certain distribution) reads as 0.0
    return h.reshape(z.shape[:-1])


def _normalised(logits: ArrayLike, axis: int, temperature: float, log: bool) -> np.ndarray:
    """softmax (``log=False``) or log_softmax of ``logits / T``: the blocked path for large arrays, else one expression."""
    arr = np.asarray(logits)
    if arr.size >= _FAST_MIN_SIZE:  # small inputs skip straight to the one-expression path
        fast = _rowwise(arr, _check_axis(arr, axis), _check_temperature(temperature), log=log)
        if fast is not None:
            return fast
    z, out_dtype = _scaled(logits, temperature)
    axis = _check_axis(z, axis)
    if z.size == 0:
        return z.astype(out_dtype)
    # NaN and inf - inf are the documented answers for bad rows: silence them here only.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        z -= np.max(z, axis=axis, keepdims=True)  # step 1: shift so the largest is 0
        if log:
            z -= np.log(np.sum(np.exp(z), axis=axis, keepdims=True))  # log p = (z - m) - log sum exp(z - m)
        else:
            np.exp(z, out=z)  # step 2: exponentiate, every value in (0, 1]
            z /= np.sum(z, axis=axis, keepdims=True)  # step 3: normalise
    return z.astype(out_dtype, copy=False)


# ----------------------------------------------------------- the family ----


def softmax(logits: ArrayLike, axis: int = -1, *, temperature: float = 1.0) -> np.ndarray:
    r"""Probabilities from logits: ``exp(z_i / T) / sum_j exp(z_j / T)``, computed stably.

    Parameters
    ----------
    logits : array_like
        Raw scores; any real numbers, ``-inf`` for a masked class.
    axis : int, default -1
        The class axis.
    temperature : float, default 1.0
        Divide the logits by ``T > 0`` first: ``T < 1`` sharpens the
        distribution, ``T > 1`` flattens it.

    Returns
    -------
    numpy.ndarray
        Same shape as ``logits``; each slice along ``axis`` lies in [0, 1] and
        sums to 1. Rows with NaN or ``+inf``, and rows of only ``-inf``, are NaN.

    Notes
    -----
    .. math:: p_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}}, \quad m = \max_j z_j

    Subtracting ``m`` changes nothing mathematically (it cancels between the
    numerator and the denominator) but keeps every exponent ≤ 0, so ``exp``
    cannot overflow.

    Examples
    --------
    >>> import numpy as np
    >>> softmax([2.0, 1.0, 0.1]).round(3)
    array([0.659, 0.242, 0.099])
    >>> softmax([1000.0, 999.0, 998.0]).round(3)   # naive_softmax gives nan here
    array([0.665, 0.245, 0.09 ])
    >>> softmax([1.0, -np.inf])                     # a masked class
    array([1., 0.])
    >>> softmax([2.0, 1.0, 0.1], temperature=100).round(3)
    array([0.337, 0.333, 0.33 ])
    """
    return _normalised(logits, axis, temperature, log=False)


def log_softmax(logits: ArrayLike, axis: int = -1, *, temperature: float = 1.0) -> np.ndarray:
    r"""Log-probabilities ``z_i - logsumexp(z)``, computed directly, never as ``log(softmax(z))``.

    Parameters
    ----------
    logits : array_like
        Raw scores; ``-inf`` for a masked class.
    axis : int, default -1
        The class axis.
    temperature : float, default 1.0
        Divide the logits by ``T > 0`` first.

    Returns
    -------
    numpy.ndarray
        Same shape as ``logits``; values ≤ 0 whose ``exp`` sums to 1. A masked
        class gives ``-inf``; bad rows give NaN as in :func:`softmax`.

    Notes
    -----
    .. math:: \log p_i = (z_i - m) - \log \sum_j e^{z_j - m}

    ``log(softmax(z))`` loses every class whose probability underflows to 0
    (its log becomes ``-inf``); this form keeps them exact.

    Examples
    --------
    >>> log_softmax([1000.0, 1.0])
    array([   0., -999.])
    >>> import numpy as np
    >>> with np.errstate(divide="ignore"):
    ...     np.log(softmax([1000.0, 1.0]))          # the tail is lost
    array([  0., -inf])
    """
    return _normalised(logits, axis, temperature, log=True)


def logsumexp(logits: ArrayLike, axis: int = -1) -> np.ndarray:
    r"""``log(sum(exp(z)))`` along ``axis``, without overflow.

    Parameters
    ----------
    logits : array_like
        Values to combine; ``-inf`` entries contribute nothing.
    axis : int, default -1
        The axis to reduce.

    Returns
    -------
    numpy.ndarray
        ``logits`` with ``axis`` removed. As in scipy: a row of only ``-inf``
        gives ``-inf``, a row with ``+inf`` gives ``+inf``, NaN gives NaN; an
        empty row gives ``-inf`` (the log of an empty sum).

    Notes
    -----
    .. math:: \operatorname{LSE}(z) = m + \log \sum_j e^{z_j - m}

    It is also the logit of the merged class: the probability that softmax
    gives a group of classes equals what one class with logit
    ``logsumexp(group)`` would get.

    Examples
    --------
    >>> float(logsumexp([1000.0, 1000.0]))          # 1000 + log 2
    1000.6931471805599
    >>> float(logsumexp([0.0, -37.0, -37.0]))       # log(1 + 2e^-37): the small terms keep their digits
    1.706609525148813e-16
    >>> import numpy as np
    >>> with np.errstate(over="ignore"):
    ...     float(np.log(np.sum(np.exp([1000.0, 1000.0]))))
    inf
    """
    z, out_dtype = _float_array(logits)
    axis = _check_axis(z, axis)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if z.shape[axis] == 0:
            return np.full(np.delete(z.shape, axis), -np.inf, dtype=out_dtype)
        m = np.max(z, axis=axis, keepdims=True)
        finite = np.isfinite(m)
        m[~finite] = 0  # an all -inf or +inf row: no shift, exp gives 0 or inf as it should
        e = np.exp(z - m)
        # the top term is exactly 1: sum the others and take log1p, so that tiny terms keep their digits
        # (logsumexp([0, -37, -37]) is 1.7e-16, not 0.0, as in scipy)
        top = np.argmax(z, axis=axis, keepdims=True)
        np.put_along_axis(e, top, np.where(finite, 0.0, np.take_along_axis(e, top, axis=axis)), axis=axis)
        rest = np.sum(e, axis=axis, keepdims=True)
        out = np.where(finite, np.log1p(rest), np.log(rest)) + m
    return np.squeeze(out, axis=axis).astype(out_dtype, copy=False)


def naive_softmax(logits: ArrayLike, axis: int = -1) -> np.ndarray:
    """Textbook ``exp(z) / sum(exp(z))`` with no shift: overflows on purpose.

    For teaching only: it shows what the shift in :func:`softmax` prevents.
    Unlike the rest of this module it computes in the input's own precision,
    float16 included, so each dtype overflows at its own limit
    (``exp`` passes the largest float at z ≈ 11.09 in float16, 88.72 in
    float32, 709.78 in float64). Overflow quietly gives ``inf / inf = nan``.

    Parameters
    ----------
    logits : array_like
        Raw scores.
    axis : int, default -1
        The class axis.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype rules as :func:`softmax`, except float16 stays
        float16 throughout.

    Examples
    --------
    >>> naive_softmax([2.0, 1.0, 0.1]).round(3)
    array([0.659, 0.242, 0.099])
    >>> naive_softmax([1000.0, 999.0])              # exp(1000) = inf
    array([nan, nan])
    """
    arr = np.asarray(logits)
    z = np.array(arr, dtype=arr.dtype if arr.dtype.kind == "f" else np.float64, copy=True)
    axis = _check_axis(z, axis)
    if z.size == 0:
        return z
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        np.exp(z, out=z)
        z /= np.sum(z, axis=axis, keepdims=True)
    return z


def sigmoid(logits: ArrayLike) -> np.ndarray:
    r"""The logistic function ``1 / (1 + exp(-x))``, elementwise and stable for large ``|x|``.

    A sigmoid reads each logit on its own as log-odds, ``x = log(p / (1 - p))``:
    the multi-label view, where classes do not compete.

    Parameters
    ----------
    logits : array_like
        Log-odds; ``-inf`` gives 0, ``+inf`` gives 1, NaN gives NaN.

    Returns
    -------
    numpy.ndarray
        Same shape as ``logits``, values in [0, 1].

    Notes
    -----
    For ``x < 0`` the form ``exp(x) / (1 + exp(x))`` is used, so ``exp`` only
    ever sees ``-|x|`` and cannot overflow.

    Examples
    --------
    >>> sigmoid([0.0, 2.0, -2.0]).round(4)
    array([0.5   , 0.8808, 0.1192])
    >>> sigmoid([-1000.0, 1000.0])
    array([0., 1.])
    """
    x, out_dtype = _float_array(logits)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
        out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
    return out.astype(out_dtype, copy=False)


def entropy(logits: ArrayLike, axis: int = -1, *, base: float | None = None, temperature: float = 1.0) -> np.ndarray:
    r"""Shannon entropy of ``softmax(logits)``: ``-sum p_i log p_i``.

    Parameters
    ----------
    logits : array_like
        Raw scores; masked classes (``-inf``) contribute 0.
    axis : int, default -1
        The class axis.
    base : float, optional
        Logarithm base: ``None`` for nats, 2 for bits.
    temperature : float, default 1.0
        Divide the logits by ``T > 0`` first.

    Returns
    -------
    numpy.ndarray
        ``logits`` with ``axis`` removed; between 0 (one certain class) and
        ``log(C)`` (uniform over C classes). Bad rows give NaN.

    Notes
    -----
    Computed from log-probabilities as ``-sum p_i log p_i`` with ``0 log 0 = 0``,
    so a probability that underflows to 0 cannot turn the sum into NaN.

    Examples
    --------
    >>> float(entropy([0.0, 0.0, 0.0, 0.0], base=2))  # uniform over 4: 2 bits
    2.0
    >>> round(float(entropy([2.0, 1.0, 0.1])), 4)
    0.8467
    """
    if base is not None and not (np.isfinite(base) and base > 0 and base != 1):
        raise InputError("args.base", value=base)
    arr = np.asarray(logits)
    if arr.size >= _FAST_MIN_SIZE:
        h = _rowwise_entropy(arr, _check_axis(arr, axis), _check_temperature(temperature))
        if h is not None:
            return h / h.dtype.type(np.log(base)) if base is not None else h
    logp = log_softmax(logits, axis=axis, temperature=temperature)
    work = logp.astype(np.float32) if logp.dtype == np.float16 else logp
    axis = _normalize_axis(axis, work.ndim)
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.exp(work)
        terms = np.where(p > 0, p * work, np.where(np.isnan(work), np.nan, 0.0))
        h = 0.0 - np.sum(terms, axis=axis)  # 0.0 - x, not -x: a certain distribution has entropy +0.0
        if base is not None:
            h = h / np.log(work.dtype.type(base))
    return np.asarray(h).astype(logp.dtype, copy=False)


def class_indices(target: ArrayLike, n_classes: int, *, errors: str = "args.target") -> np.ndarray:
    """``target`` as int64 class indices in ``[0, n_classes)``; whole-number floats are accepted.

    ``errors`` names the message family: ``<errors>_int`` for values that are
    not whole numbers, ``<errors>_range`` (with the 1-based ``row``) for the
    first index out of range. Shared by the losses and :mod:`logitsviz.calibration`.

    >>> class_indices([0.0, 2.0], 3)
    array([0, 2])
    """
    y = np.asarray(target)
    if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and y.size == 0):
        raise InputError(f"{errors}_int", value=clip(repr(target), 60))
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        row = int(np.flatnonzero((y.ravel() < 0) | (y.ravel() >= n_classes))[0])
        raise InputError(f"{errors}_range", value=int(y.flat[row]), n=n_classes, row=row + 1)
    return y


def _check_target(target: ArrayLike, batch_shape: tuple[int, ...], n_classes: int) -> np.ndarray:
    """Class indices broadcast to the logits' batch shape (one per row)."""
    y = class_indices(target, n_classes)
    if y.shape != batch_shape:
        try:
            y = np.broadcast_to(y, batch_shape)
        except ValueError:
            raise InputError("args.target_shape", shape=y.shape, expected=batch_shape) from None
    return y


def _check_smoothing(label_smoothing: float) -> float:
    try:
        eps = float(label_smoothing)
    except (TypeError, ValueError):
        raise InputError("args.label_smoothing", value=label_smoothing) from None
    if not 0.0 <= eps <= 1.0:
        raise InputError("args.label_smoothing", value=label_smoothing)
    return eps


def cross_entropy(logits: ArrayLike, target: ArrayLike, axis: int = -1, *, label_smoothing: float = 0.0) -> np.ndarray:
    r"""Cross-entropy loss ``-log softmax(logits)[target]``, one value per row.

    Parameters
    ----------
    logits : array_like
        Raw scores, classes along ``axis``.
    target : array_like of int
        The true class of each row: shape ``logits.shape`` without ``axis``,
        values in ``[0, C)``.
    axis : int, default -1
        The class axis.
    label_smoothing : float, default 0.0
        ε in [0, 1]: the target becomes ``(1 - ε)·one_hot(y) + ε / C``, as in
        ``torch.nn.functional.cross_entropy``. Typical value: 0.1.

    Returns
    -------
    numpy.ndarray
        The loss per row (no mean taken), ≥ 0; ``+inf`` when the true class is
        masked (or, with smoothing, when any class is).

    Notes
    -----
    .. math:: L = -\sum_i q_i \log p_i = (1-\varepsilon)(-\log p_y) + \frac{\varepsilon}{C}\sum_i (-\log p_i)

    Computed from :func:`log_softmax`, so a very confident wrong answer gives
    a large finite loss instead of ``-log(0) = inf``.

    Examples
    --------
    >>> round(float(cross_entropy([2.0, 1.0, 0.1], 0)), 4)   # -log 0.659
    0.417
    >>> [round(float(v), 4) for v in cross_entropy([[0.0, 1000.0], [5.0, 5.0]], [0, 1])]
    [1000.0, 0.6931]
    >>> # 0.9 x 0.417 + 0.1 x mean(0.417, 1.417, 2.317)
    >>> round(float(cross_entropy([2.0, 1.0, 0.1], 0, label_smoothing=0.1)), 4)
    0.5137
    """
    eps = _check_smoothing(label_smoothing)
    logp = log_softmax(logits, axis=axis)
    axis = _normalize_axis(axis, logp.ndim)
    moved = np.moveaxis(logp, axis, -1)
    y = _check_target(target, moved.shape[:-1], moved.shape[-1])
    nll = -np.take_along_axis(moved, y[..., None], axis=-1)[..., 0]
    if eps == 0.0:
        return nll
    with np.errstate(invalid="ignore"):
        uniform = -np.mean(moved, axis=-1)
    return (1.0 - eps) * nll + eps * uniform


def cross_entropy_grad(logits: ArrayLike, target: ArrayLike, axis: int = -1, *, label_smoothing: float = 0.0) -> np.ndarray:
    r"""Gradient of :func:`cross_entropy` with respect to the logits: ``softmax(z) - q``.

    Parameters
    ----------
    logits : array_like
        Raw scores, classes along ``axis``.
    target : array_like of int
        The true class of each row, as in :func:`cross_entropy`.
    axis : int, default -1
        The class axis.
    label_smoothing : float, default 0.0
        ε: the target is ``q = (1 - ε)·one_hot(y) + ε / C``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``logits``: ``p_y - q_y`` (negative) at the true class,
        ``p_i - ε/C`` elsewhere; each row sums to 0.

    Notes
    -----
    With :math:`L = -\sum_i q_i z_i + \log\sum_j e^{z_j}` (as
    :math:`\sum_i q_i = 1`), :math:`\partial L / \partial z_i = p_i - q_i`.
    Gradient descent so raises the true logit and lowers the others in
    proportion to their probability.

    Examples
    --------
    >>> cross_entropy_grad([2.0, 1.0, 0.1], 0).round(3)
    array([-0.341,  0.242,  0.099])
    """
    eps = _check_smoothing(label_smoothing)
    p = softmax(logits, axis=axis)
    axis = _normalize_axis(axis, p.ndim)
    moved = np.moveaxis(p, axis, -1)  # a view: writing into it writes into p
    y = _check_target(target, moved.shape[:-1], moved.shape[-1])
    if eps:
        moved -= moved.dtype.type(eps / moved.shape[-1])
    np.put_along_axis(moved, y[..., None], np.take_along_axis(moved, y[..., None], axis=-1) - (1 - eps), axis=-1)
    return p


# ------------------------------------------------------- more losses ----


def logit(probabilities: ArrayLike) -> np.ndarray:
    r"""Log-odds ``log(p / (1 - p))``: the inverse of :func:`sigmoid`.

    Parameters
    ----------
    probabilities : array_like
        Values in [0, 1]; 0 gives ``-inf``, 1 gives ``+inf``, outside gives NaN.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> logit([0.5, 0.8807970779778823]).round(6)
    array([0., 2.])
    >>> round(float(logit(sigmoid(3.0))), 12)
    3.0
    """
    p, out_dtype = _float_array(probabilities)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(p) - np.log1p(-p)
    return out.astype(out_dtype, copy=False)


def binary_cross_entropy(logits: ArrayLike, targets: ArrayLike) -> np.ndarray:
    r"""Binary cross-entropy of independent sigmoid outputs, from logits, elementwise.

    The multi-label loss: each logit is the log-odds of its own yes/no
    question, ``p_i = sigmoid(z_i)``, and classes do not compete.

    Parameters
    ----------
    logits : array_like
        Log-odds, any shape.
    targets : array_like
        Targets in [0, 1], broadcastable to ``logits``.

    Returns
    -------
    numpy.ndarray
        ``-[y log σ(z) + (1 - y) log(1 - σ(z))]``, elementwise (no mean).

    Notes
    -----
    Computed as :math:`\max(z, 0) - zy + \log(1 + e^{-|z|})`, which never
    takes the log of 0 (the form of ``BCEWithLogitsLoss``).

    Examples
    --------
    >>> binary_cross_entropy([2.0, -1.0], [1.0, 0.0]).round(4)
    array([0.1269, 0.3133])
    >>> binary_cross_entropy([-1000.0], [1.0])
    array([1000.])
    """
    z, out_dtype = _float_array(logits)
    y = np.asarray(targets, dtype=z.dtype)
    if y.size and (np.any(~np.isfinite(y)) or np.any((y < 0) | (y > 1))):
        raise InputError("args.binary_targets")
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return out.astype(out_dtype, copy=False)


def binary_cross_entropy_grad(logits: ArrayLike, targets: ArrayLike) -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy` with respect to the logits: ``sigmoid(z) - y``.

    >>> binary_cross_entropy_grad([0.0, 2.0], [1.0, 1.0]).round(4)
    array([-0.5   , -0.1192])
    """
    z, out_dtype = _float_array(logits)
    y = np.asarray(targets, dtype=z.dtype)
    if y.size and (np.any(~np.isfinite(y)) or np.any((y < 0) | (y > 1))):
        raise InputError("args.binary_targets")
    return (sigmoid(z) - y).astype(out_dtype, copy=False)


def kl_divergence(p_logits: ArrayLike, q_logits: ArrayLike, axis: int = -1, *, temperature: float = 1.0) -> np.ndarray:
    r"""``KL(softmax(p_logits / T) ‖ softmax(q_logits / T))`` along ``axis``.

    Parameters
    ----------
    p_logits, q_logits : array_like
        Logits of the reference distribution P (in distillation: the
        teacher) and of the approximation Q (the student); same shape.
    axis : int, default -1
        The class axis.
    temperature : float, default 1.0
        Both are softened by the same ``T > 0``.

    Returns
    -------
    numpy.ndarray
        ``logits`` with ``axis`` removed; ≥ 0, and 0 exactly when the two
        distributions agree. ``+inf`` when Q masks a class P does not.

    Notes
    -----
    .. math:: \mathrm{KL}(P \| Q) = \sum_i p_i (\log p_i - \log q_i)

    Examples
    --------
    >>> float(kl_divergence([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    0.0
    >>> round(float(kl_divergence([2.0, 1.0, 0.1], [0.0, 0.0, 0.0])), 4)   # log 3 - H
    0.2519
    """
    logp = log_softmax(p_logits, axis=axis, temperature=temperature)
    logq = log_softmax(q_logits, axis=axis, temperature=temperature)
    if logp.shape != logq.shape:
        raise InputError("args.same_shape", a=logp.shape, b=logq.shape)
    axis = _normalize_axis(axis, logp.ndim)
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.exp(logp)
        # KL >= 0; rounding can leave -1e-17 when P == Q: clip it (NaN stays NaN)
        return np.maximum(np.sum(_kl_terms(logp, logq, p), axis=axis), 0.0)


def _kl_terms(logp: np.ndarray, logq: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Each class's ``p (log p − log q)``: 0 where p is 0 (even where q is 0 too), NaN where either side is NaN.

    >>> _kl_terms(np.array([-0.6931, -0.6931, -np.inf]), np.array([-1.3863, -0.2877, -np.inf]), np.array([0.5, 0.5, 0.0])).round(4)
    array([ 0.3466, -0.2027,  0.    ])
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.where(p > 0, p * (logp - logq), np.where(np.isnan(logp) | np.isnan(logq), np.nan, 0.0))


def distillation_loss(student_logits: ArrayLike, teacher_logits: ArrayLike, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    r"""Knowledge-distillation loss ``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``.

    The T² factor (Hinton et al. 2015, "Distilling the Knowledge in a
    Neural Network") keeps the gradient's size roughly independent of T, so
    the soft loss can be mixed with the ordinary cross-entropy at any T.

    Examples
    --------
    >>> # T = 2: teacher p = (0.818, 0.182), student q = (0.622, 0.378), KL = 0.0902, x 4
    >>> round(float(distillation_loss([1.0, 0.0], [3.0, 0.0], temperature=2.0)), 4)
    0.361
    """
    t = _check_temperature(temperature)
    return t * t * kl_divergence(teacher_logits, student_logits, axis=axis, temperature=t)


def distillation_grad(student_logits: ArrayLike, teacher_logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    r"""Gradient of :func:`distillation_loss` with respect to the student's logits: ``T · (q - p)``.

    ``q = softmax(student / T)``, ``p = softmax(teacher / T)``; the chain rule
    through ``z / T`` turns ``T²`` into ``T``.

    >>> distillation_grad([1.0, 0.0], [1.0, 0.0], temperature=3.0)
    array([0., 0.])
    """
    t = _check_temperature(temperature)
    return t * (softmax(student_logits, temperature=t) - softmax(teacher_logits, temperature=t))


def cosine_similarity(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Matrix of cosine similarities between the rows of ``a`` (N, D) and ``b`` (M, D).

    >>> cosine_similarity([[1.0, 0.0], [0.0, 2.0]], [[3.0, 0.0], [1.0, 1.0]]).round(4)
    array([[1.    , 0.7071],
           [0.    , 0.7071]])
    """
    a_arr, _ = _float_array(a)
    b_arr, _ = _float_array(b)
    if a_arr.ndim != 2 or b_arr.ndim != 2 or a_arr.shape[1] != b_arr.shape[1]:
        raise InputError("args.embeddings", a=a_arr.shape, b=b_arr.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_unit = a_arr / np.linalg.norm(a_arr, axis=1, keepdims=True)
        b_unit = b_arr / np.linalg.norm(b_arr, axis=1, keepdims=True)
    return a_unit @ b_unit.T


def info_nce(logits: ArrayLike, *, symmetric: bool = False) -> float:
    r"""InfoNCE (contrastive) loss of an (N, N) logit matrix whose diagonal holds the positive pairs.

    Row i asks "which of the N candidates is my partner?": the loss is the
    mean cross-entropy with target i. ``symmetric=True`` averages the row
    and column directions, as CLIP does. Logits are usually cosine
    similarities divided by a temperature τ (0.07 in CLIP).

    Notes
    -----
    .. math:: L = -\frac{1}{N}\sum_i \log \frac{e^{s_{ii}/\tau}}{\sum_j e^{s_{ij}/\tau}}

    Examples
    --------
    >>> round(info_nce([[5.0, 0.0], [0.0, 5.0]]), 4)   # easy pairs: small loss
    0.0067
    >>> round(info_nce([[0.0, 0.0], [0.0, 0.0]]), 4)   # no information: log N
    0.6931
    """
    s, _ = _float_array(logits)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] == 0:
        raise InputError("args.square", shape=s.shape)
    targets = np.arange(s.shape[0])
    rows = float(np.mean(cross_entropy(s, targets)))
    if not symmetric:
        return rows
    return 0.5 * (rows + float(np.mean(cross_entropy(s.T, targets))))


def info_nce_grad(logits: ArrayLike) -> np.ndarray:
    """Gradient of :func:`info_nce` (rows only) with respect to the logit matrix: ``(softmax(S) - I) / N``.

    >>> info_nce_grad([[0.0, 0.0], [0.0, 0.0]])
    array([[-0.25,  0.25],
           [ 0.25, -0.25]])
    """
    s, _ = _float_array(logits)
    if s.ndim != 2 or s.shape[0] != s.shape[1] or s.shape[0] == 0:
        raise InputError("args.square", shape=s.shape)
    return cross_entropy_grad(s, np.arange(s.shape[0])) / s.shape[0]

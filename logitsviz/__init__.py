"""logitsviz: see what logits are, and what softmax, temperature, sampling and losses do with them.

>>> import logitsviz as lv
>>> lv.softmax([2.0, 1.0, 0.1]).round(3)
array([0.659, 0.242, 0.099])
"""

from logitsviz.errors import InputError
from logitsviz.numerics import (
    cross_entropy,
    cross_entropy_grad,
    entropy,
    log_softmax,
    logsumexp,
    naive_softmax,
    sigmoid,
    softmax,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "__version__",
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "log_softmax",
    "logsumexp",
    "naive_softmax",
    "sigmoid",
    "softmax",
]

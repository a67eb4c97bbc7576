"""logitsviz: see what logits are, and what softmax, temperature, sampling and losses do with them.

>>> import logitsviz as lv
>>> lv.softmax([2.0, 1.0, 0.1]).round(3)
array([0.659, 0.242, 0.099])
"""

from logitsviz.errors import InputError
from logitsviz.numerics import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cosine_similarity,
    cross_entropy,
    cross_entropy_grad,
    distillation_grad,
    distillation_loss,
    entropy,
    info_nce,
    info_nce_grad,
    kl_divergence,
    log_softmax,
    logit,
    logsumexp,
    naive_softmax,
    sigmoid,
    softmax,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "softmax",
    "log_softmax",
    "logsumexp",
    "naive_softmax",
    "sigmoid",
    "logit",
    "entropy",
    "cross_entropy",
    "cross_entropy_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "kl_divergence",
    "distillation_loss",
    "distillation_grad",
    "cosine_similarity",
    "info_nce",
    "info_nce_grad",
    "__version__",
]

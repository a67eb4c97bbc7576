"""Reading logits the way people paste and upload them, with messages that say what and where.

``parse_logits(text)`` reads one vector of logits, with or without class
names; ``format_logits`` writes the compact form it reads back;
``load_array(data, filename)`` reads a file into an array. Delimited text is
read with the :mod:`csv` module, so quoted labels (``"Smith, J",2``) keep
their commas. Whatever the input, the only exception that leaves this module
is :class:`InputError`.

The package's modules: ``files`` (uploads: numpy, JSON and delimited text,
evaluation sets) and ``writing`` (the compact form) on ``text`` (pasted text:
prints, JSON, lines of pairs, token ids), on ``base`` (the size limits and
number checks they share). Import from the package: its names are the API.
"""

from __future__ import annotations

from logitsviz.errors import InputError
from logitsviz.inputs.base import (
    MAX_CLASSES,
    MAX_ELEMENTS,
    MAX_TEXT_CHARS,
    MAX_UPLOAD_BYTES,
    MB,
    SUPPORTED_EXTENSIONS,
    default_labels,
)
from logitsviz.inputs.files import (
    load_array,
    logits_from_array,
    npy_header,
    read_eval_set,
    read_vector_file,
    validate_pairs,
    vector_from_array,
)
from logitsviz.inputs.text import parse_logits, parse_token_ids
from logitsviz.inputs.writing import format_logits

__all__ = [
    "MAX_CLASSES",
    "MAX_ELEMENTS",
    "MAX_TEXT_CHARS",
    "MAX_UPLOAD_BYTES",
    "MB",
    "SUPPORTED_EXTENSIONS",
    "InputError",
    "default_labels",
    "format_logits",
    "load_array",
    "logits_from_array",
    "npy_header",
    "parse_logits",
    "parse_token_ids",
    "read_vector_file",
    "read_eval_set",
    "validate_pairs",
    "vector_from_array",
]

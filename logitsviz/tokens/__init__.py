"""Tokens as a person reads them, and token log-probabilities from any API, saved or asked live.

- :mod:`~logitsviz.tokens.text`: tokenizer pieces back to bytes, bytes to text,
  a character split across tokens shown once (``⟨e6 98⟩`` for a partial one);
- :mod:`~logitsviz.tokens.logprobs`: the response formats of OpenAI, vLLM,
  llama.cpp and Ollama read into one :class:`LogprobSequence`
  (:func:`read_logprobs`), each format one record of :data:`FORMATS`;
- :mod:`~logitsviz.tokens.servers`: :func:`request` asks a live server, streamed
  or not, within the deployment's allow-list of servers.
"""

from logitsviz.tokens.logprobs import FORMATS, SENTINEL, Format, LogprobSequence, Position, read_logprobs
from logitsviz.tokens.servers import APIS, list_models, request, stream_request
from logitsviz.tokens.text import Piece, byte_level_bytes, display, pieces, sentencepiece_bytes, unique, visible

__all__ = [
    "APIS",
    "FORMATS",
    "SENTINEL",
    "Format",
    "LogprobSequence",
    "Piece",
    "Position",
    "byte_level_bytes",
    "display",
    "list_models",
    "pieces",
    "read_logprobs",
    "request",
    "sentencepiece_bytes",
    "stream_request",
    "unique",
    "visible",
]

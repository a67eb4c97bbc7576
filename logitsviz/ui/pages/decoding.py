"""Decoding page: see ``logitsviz.ui.decoding``."""

from logitsviz.ui import decoding

decoding.render()

"""Stability page: see ``logitsviz.ui.stability``."""

from logitsviz.ui import stability

stability.render()

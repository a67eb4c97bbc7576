"""Losses page: see ``logitsviz.ui.losses``."""

from logitsviz.ui import losses

losses.render()

"""Calibration page: see ``logitsviz.ui.calibration``."""

from logitsviz.ui import calibration

calibration.render()

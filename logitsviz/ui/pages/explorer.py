"""Explorer page: see ``logitsviz.ui.explorer``."""

from logitsviz.ui import explorer

explorer.render()

"""The script ``logitsviz app`` hands to ``streamlit run`` when the package is installed without this repository."""

from logitsviz.ui.main import main

main()

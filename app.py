"""logitsviz web app: ``streamlit run app.py``. The shell lives in ``logitsviz.ui.main``."""

from logitsviz.ui.main import main

main()

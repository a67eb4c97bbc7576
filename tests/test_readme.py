"""The README's notebook example runs and gives plotly figures."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go

README = Path(__file__).resolve().parents[1] / "README.md"


def test_notebook_example_runs():
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- notebook-example.*?-->\s*```python\n(.*?)```", text, re.DOTALL)
    assert block, "the README lost its notebook example"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) <= 6  # five lines and an import
    namespace: dict = {}
    figures_made = []
    for line in lines:
        # run it as a notebook would: a statement is executed, an expression's value is displayed
        try:
            code = compile(line, "README", "eval")
        except SyntaxError:
            exec(compile(line, "README", "exec"), namespace)
            continue
        result = eval(code, namespace)
        if isinstance(result, go.Figure):
            figures_made.append(result)
    assert len(figures_made) == 3
    assert all(len(fig.data) >= 2 for fig in figures_made)


def test_quick_start_has_exactly_the_two_commands():
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, re.DOTALL)
    assert commands == [
        "pip install -r requirements.txt && streamlit run app.py",
        "pip install -r requirements-dev.txt && python -m pytest",
    ]

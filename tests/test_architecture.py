"""The shape of the code: layers as docs/architecture.md draws them, and no function too tangled to read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parents[1]
MAX_COMPLEXITY = 15


def _functions(blocks):
    for block in blocks:
        if hasattr(block, "methods"):  # a class: its methods count one by one
            yield from block.methods
        else:
            yield block


def test_no_function_is_too_complex():
    too_complex = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
        for path in sorted((ROOT / "logitsviz").rglob("*.py"))
        for block in _functions(cc_visit(path.read_text(encoding="utf-8")))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert not too_complex, f"cyclomatic complexity above {MAX_COMPLEXITY}: {too_complex}"


def test_the_complexity_check_sees_a_tangle():
    tangled = "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(20)) + "    return -1\n"
    assert max(b.complexity for b in _functions(cc_visit(tangled))) > MAX_COMPLEXITY


def test_import_layers_hold():
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert linter, "import-linter (requirements-dev.txt) is not installed"
    result = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout

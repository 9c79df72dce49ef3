"""Domain modules must import without any UI: the CLI and TUI are shells over them."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN = ["coder.store", "coder.spec", "coder.codebook", "coder.readers", "coder.ingest", "coder.themes", "coder.codings", "coder.tables",
          "coder.session", "coder.agreement", "coder.history", "coder.evaluate", "coder.suggest.engine",
          "coder.export.refi_qda", "coder.export.coded_data"]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_no_ui(module):
    # sqlite-utils imports click and spaCy's helpers import rich, so the check is for our
    # shells and Textual.
    shells = ('textual', 'coder.cli', 'coder.tui', 'coder.commands')
    code = f"import sys, {module}; bad = [m for m in {shells!r} if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in {result.stdout.strip()} {result.stderr}"


def test_the_shells_hold_no_sql():
    """The CLI and the app call domain functions; the schema is known below them only."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "coder"
    shells = [root / "cli.py", *sorted((root / "commands").glob("*.py")), *sorted((root / "tui").rglob("*.py"))]
    offenders = [f"{path.relative_to(root)}:{n}" for path in shells
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ".execute(" in line]
    assert offenders == []

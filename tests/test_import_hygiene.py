"""Domain modules must import without any UI: the CLI and TUI are shells over them.

The layers themselves (shells, then export and report, then coding and suggestions, then
survey and codebooks, then the store) are import-linter contracts in pyproject.toml, run by
`make check`; this test keeps the promise without that tool, module by module.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import coder

ROOT = Path(coder.__file__).resolve().parent
SHELLS = ("coder.cli", "coder.tui", "coder.__main__")
DOMAIN = sorted(m.name for m in pkgutil.walk_packages(coder.__path__, "coder.") if not m.name.startswith(SHELLS))


def test_every_step_of_the_data_path_is_checked():
    assert {
        "coder.store",
        "coder.survey.load",
        "coder.codebook.db",
        "coder.coding.session",
        "coder.suggest.engine",
        "coder.report.tables",
        "coder.export.folder",
    } <= set(DOMAIN)


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_no_ui(module):
    # sqlite-utils imports click and spaCy's helpers import rich, so the check is for our
    # shells and Textual.
    shells = ("textual", "textual_serve", *SHELLS)
    code = f"import sys, {module}; bad = [m for m in {shells!r} if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in {result.stdout.strip()} {result.stderr}"


def test_the_shells_hold_no_sql():
    """The CLI and the app call domain functions; the schema is known below them only."""
    shells = [*sorted((ROOT / "cli").glob("*.py")), *sorted((ROOT / "tui").rglob("*.py"))]
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in shells
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ".execute(" in line
    ]
    assert offenders == []

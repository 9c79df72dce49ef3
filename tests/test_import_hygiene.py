"""Domain modules must import without any UI: the CLI and TUI are shells over them."""

from __future__ import annotations

import subprocess
import sys

import pytest

DOMAIN = ["coder.store", "coder.spec", "coder.codebook", "coder.ingest", "coder.themes", "coder.codings", "coder.tables"]


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_no_ui(module):
    # sqlite-utils itself imports click, so the check is for our shells and the TUI stack.
    shells = ('textual', 'rich', 'coder.cli', 'coder.tui')
    code = f"import sys, {module}; bad = [m for m in {shells!r} if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} pulls in {result.stdout.strip()} {result.stderr}"

"""`mypy coder` checks every module of the project (issue 14): none is exempted from its errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_no_project_module_is_exempt_from_mypy_errors():
    overrides = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["mypy"].get("overrides", [])
    exempt = [
        module
        for override in overrides
        if override.get("ignore_errors")
        for module in ([override["module"]] if isinstance(override["module"], str) else override["module"])
        if module == "coder" or module.startswith("coder.")
    ]
    assert exempt == []

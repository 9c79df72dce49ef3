"""benchmarks/browser_check.py in the suite: the coding page and the report as Chromium shows them.

Slow (a report and two Chromium runs, about a minute), so marked `slow` and run only with
CODER_BROWSER=1 or `-m slow`, and only where Chromium is installed.
"""

from __future__ import annotations

import socket
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import browser_check  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium():
    found = browser_check.find_chromium()
    if found is None:
        pytest.skip("chromium is not installed")
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
    except OSError as exc:
        pytest.skip(f"this sandbox forbids binding a local port ({exc})")
    return found


def test_coding_page_and_report_render_in_chromium(chromium, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert browser_check.main(["--workdir", str(tmp_path), "--chromium", chromium]) == 0, capsys.readouterr().out
    output = capsys.readouterr().out
    png = tmp_path / "coder-serve.png"
    assert f"screenshot: {png}" in output and png.read_bytes().startswith(b"\x89PNG")
    assert '"quote_files_with_quotes": 6' in output


def test_blank_screenshot_and_broken_report_are_caught(tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 64), "black").save(blank)
    with pytest.raises(RuntimeError, match="blank"):
        browser_check.check_png(blank)
    page = browser_check.Page()
    page.feed("<table><tr><td>&lt;td&gt; 12.5% **bold**</td></tr></table><img src='gone.png'>")
    assert page.tables == 1 and page.images == ["gone.png"]
    assert [m for m in browser_check.RAW_MARKUP if m in " ".join(page.text)] == ["<td", "**"]

"""`coder serve` end to end: a real server process, driven through its websocket as the browser's page does.

The page's JavaScript sends JSON messages (["resize", {...}], ["stdin", keys]) and
receives the terminal output as binary frames; the tests do the same with aiohttp,
wait on the screen output or the database (never a fixed sleep), and always stop
the server and its session processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.tui import make_app
from coder.tui.screens import CodingScreen, NameScreen
from coder.tui.serve import session_command
from tests.conftest import ROOT
from tests.invoke import run

aiohttp = pytest.importorskip("aiohttp")

TIMEOUT = 20  # seconds: a bound for a hang, not a guess at a duration


def free_port() -> int:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    except OSError as exc:
        pytest.skip(f"this sandbox forbids binding a local port ({exc})")


@pytest.fixture
def db_path(suggested_db_path, tmp_path):
    # A name a shell would expand or split: the session command must quote it.
    path = tmp_path / "team's survey $(false).db"
    shutil.copy(suggested_db_path, path)
    return path


@contextmanager
def running_server(db_path: Path, tmp_path: Path, *extra: str):
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115  (the server writes to it until the finally below)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "coder", "serve", str(db_path), "--port", str(port), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "coder serve did not start listening"
                time.sleep(0.05)
        yield f"127.0.0.1:{port}", process
    finally:
        # The server and every session process it started are in the group this test made.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        finally:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            log.close()


class Browser:
    """One browser session: the websocket and the terminal output it has shown so far."""

    def __init__(self, websocket) -> None:
        self.websocket = websocket
        self.output = b""

    @classmethod
    async def open(cls, client, address: str) -> Browser:
        browser = cls(await client.ws_connect(f"ws://{address}/ws", origin=f"http://{address}"))
        await browser.websocket.send_json(["resize", {"width": 100, "height": 30}])
        return browser

    async def keys(self, *keys: str) -> None:
        for key in keys:
            await self.websocket.send_json(["stdin", key])

    async def shows(self, text: str) -> None:
        """Wait until the screen output holds `text` (escape sequences removed), and forget it."""
        deadline = time.monotonic() + TIMEOUT
        while text not in (
            screen := re.sub(rb"\x1b\[[0-9;?<>=]*[a-zA-Z~]", b"", self.output).decode("utf-8", "replace")
        ):
            message = await asyncio.wait_for(self.websocket.receive(), max(deadline - time.monotonic(), 0.01))
            assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT), f"session ended: {message}"
            if message.type == aiohttp.WSMsgType.BINARY:
                self.output += message.data
        self.output = b""
        return screen

    async def closed(self) -> None:
        """Read on (answering the server's close, as a browser does) until the session ends."""
        async for _ in self.websocket:
            pass


def confirmed(path: Path) -> list[tuple]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            """SELECT c.answer_id, c.coder, t.id FROM codings c JOIN themes t ON t.pk = c.theme_pk
               WHERE c.status = 'confirmed' ORDER BY c.answer_id"""
        ).fetchall()
    finally:
        connection.close()


async def until(check, what: str):
    deadline = time.monotonic() + TIMEOUT
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return result


async def test_two_browsers_code_one_database_at_once(db_path, tmp_path):
    with running_server(db_path, tmp_path, "--question", "q14") as (address, server):
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://{address}/") as page:
                assert page.status == 200
                html = await page.text()
                assert f'data-session-websocket-url="ws://{address}/ws"' in html
                assert "googleapis" not in html and "xterm.css" in html  # nothing from other sites
            backup = db_path.with_name(db_path.name + ".autobackup")  # taken once, when the server started
            taken = backup.stat().st_mtime_ns
            ann, bob = await asyncio.gather(Browser.open(client, address), Browser.open(client, address))
            await asyncio.gather(ann.shows("Your name"), bob.shows("Your name"))
            await ann.keys(*"ann", "\r")
            await bob.keys(*"bob", "\r")
            await asyncio.gather(ann.shows("suggestions"), bob.shows("suggestions"))
            await ann.keys("1", "\r")  # toggle the top suggestion on the first answer, confirm
            await bob.keys("s", "s", "1", "\r")  # skip two answers, code the third
            rows = await until(
                lambda: {r[1] for r in confirmed(db_path)} == {"ann", "bob"} and confirmed(db_path),
                "both coders' codings",
            )
            await ann.keys(" ")  # accept the top suggestion on the second answer
            rows = await until(
                lambda: len({r[0] for r in confirmed(db_path) if r[1] == "ann"}) == 2 and confirmed(db_path),
                "ann's second coding",
            )
            # Ctrl+C with both sessions open: the server ends them (as a browser would see) and exits.
            readers = [asyncio.create_task(browser.closed()) for browser in (ann, bob)]
            stopping = time.monotonic()
            server.send_signal(signal.SIGINT)
            await until(lambda: server.poll() is not None, "the server to stop")
            assert time.monotonic() - stopping < 8, "the server waited for its sessions instead of ending them"
            await asyncio.gather(*readers)
            with pytest.raises(ProcessLookupError):  # no session process outlived the server
                os.killpg(server.pid, 0)
    by_coder = {}
    for answer, coder, _ in rows:
        by_coder.setdefault(coder, set()).add(answer)
    assert len(by_coder["ann"]) == 2 and len(by_coder["bob"]) == 1 and not by_coder["ann"] & by_coder["bob"]
    # The sessions did not replace the server's copy from before them: it holds none of their codes.
    assert backup.stat().st_mtime_ns == taken and confirmed(backup) == []
    connection = sqlite3.connect(db_path)
    actions = connection.execute("SELECT coder, action FROM audit WHERE action LIKE 'coding.%' ORDER BY id").fetchall()
    connection.close()
    assert ("ann", "coding.confirm") in actions and ("bob", "coding.confirm") in actions


async def test_pages_and_sessions_of_other_sites_are_refused(db_path, tmp_path):
    with running_server(db_path, tmp_path) as (address, _):
        async with aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(f"ws://{address}/ws", origin="http://evil.example")
            assert refused.value.status == 403
            # DNS rebinding: another site's name resolving to 127.0.0.1.
            async with client.get(f"http://{address}/", headers={"Host": "evil.example"}) as page:
                assert page.status == 403
    assert confirmed(db_path) == []


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)), min_size=1),
    question=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1),
)
def test_session_command_quotes_any_path_and_question(name, question):
    """textual-serve runs the command through a shell: every word must come back exactly as given."""
    path = Path("/tmp/coder-serve-names") / name
    words = shlex.split(session_command(path, question))
    assert words == [sys.executable, "-m", "coder", "code", str(path.resolve()), "--ask-coder", "--question", question]


def test_port_in_use_is_a_clear_error(db_path):
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 0))
        except OSError as exc:
            pytest.skip(f"this sandbox forbids binding a local port ({exc})")
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", str(db_path), "--port", str(port), ok=None)
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output and "--port" in result.output


def test_network_host_warns_and_database_is_checked_first(db_path, tmp_path, monkeypatch):
    import coder.tui.serve

    served = []
    monkeypatch.setattr(coder.tui.serve, "serve", lambda *args: served.append(args))
    monkeypatch.setattr(coder.tui.serve, "check_port", lambda host, port: None)
    result = run("serve", str(db_path), "--host", "0.0.0.0", "--question", "q14")
    assert result.exit_code == 0, result.output
    assert "anyone who can reach this machine" in result.output
    assert served == [(str(db_path), "q14", "0.0.0.0", 8000)]
    for bad in (tmp_path / "missing.db", tmp_path / "notes.txt"):
        if bad.suffix == ".txt":
            bad.write_text("not a database\n" * 100)
        result = run("serve", str(bad), ok=False)
        assert result.exit_code == 1 and "Error:" in result.output
    result = run("serve", str(db_path), "--question", "nope", ok=False)
    assert result.exit_code == 1 and "unknown question" in result.output
    assert len(served) == 1


async def test_name_screen_asks_until_a_name_is_given(db_path):
    app = make_app(db_path, "q14", None, retrain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, NameScreen) and app.session is None
        await pilot.press("space", "enter")  # a blank name
        assert isinstance(app.screen, NameScreen)
        assert "coder name" in str(app.screen.query_one("#name-error").render())
        await pilot.press(*"cat", "enter")
        assert isinstance(app.screen, CodingScreen) and app.session.coder == "cat"
        await pilot.press("1", "enter")
    assert {r[1] for r in confirmed(db_path)} == {"cat"}

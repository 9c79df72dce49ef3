"""`coder serve`: the coding app in web browsers, one `coder code` process per browser session.

textual-serve runs the session command through a shell, so it is built from
quoted words (the database path is the user's text); each process asks its
coder's name and then is exactly `coder code`, on the one database (WAL, one
transaction per action), so any number of sessions can code at once.

A coding session can change the database, so the server refuses what a
browser would let another site do: a websocket opened by a page from another
origin, and (on a loopback address) a request for a host name that is not this
machine's, which is how DNS rebinding reaches a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server, to_int

from coder.errors import CoderError
from coder.safe_input import excerpt


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_command(db_path: str | Path, question: str | None) -> str:
    """The shell command for one browser session: this interpreter's `coder code`, asking the coder's name."""
    words = [sys.executable, "-m", "coder", "code", str(Path(db_path).resolve()), "--ask-coder"]
    if question:
        words += ["--question", question]
    return shlex.join(words)


def check_port(host: str, port: int) -> None:
    """Fail before serving, with a message that says what to do, if the server could not listen on host:port."""
    if not 0 < port < 65536:
        raise CoderError(f"--port {port} is not a port: choose one from 1024 to 65535")
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise CoderError(f"cannot listen on --host {excerpt(host)}: no such address on this machine") from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise CoderError(
                        f"port {port} on {host} is already in use: stop what listens there, "
                        "or choose another port with --port"
                    ) from None
                if exc.errno == errno.EACCES:
                    raise CoderError(
                        f"port {port} needs administrator rights: choose one from 1024 up with --port"
                    ) from None
                raise CoderError(f"cannot listen on {host} port {port}: {exc.strerror}") from None


class CoderServer(Server):
    def __init__(self, db_path: str | Path, question: str | None, host: str, port: int) -> None:
        super().__init__(session_command(db_path, question), host=host, port=port, title="coder")
        self.loopback = is_loopback(host)
        self.sessions: set[asyncio.Task] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()

        @web.middleware
        async def guard(request: web.Request, handler):
            """Refuse other sites (module docstring); keep each session, so shutdown can end it."""
            if self.loopback and not is_loopback(urlsplit(f"//{request.host}").hostname or ""):
                raise web.HTTPForbidden(text="coder serve answers only to localhost on this address")
            origin = request.headers.get("Origin")
            if request.path == "/ws" and origin is not None and urlsplit(origin).netloc != request.host:
                raise web.HTTPForbidden(text="a coding session opens only from coder serve's own page")
            if request.path != "/ws":
                return await handler(request)
            session = asyncio.current_task()
            if session is None:  # aiohttp runs every request in a task; without one there is none to end
                return await handler(request)
            self.sessions.add(session)
            try:
                return await handler(request)
            finally:
                self.sessions.discard(session)

        app.middlewares.append(guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """The command prints its own banner."""

    async def on_shutdown(self, app: web.Application) -> None:
        """End every session now (its process is told to quit), rather than after aiohttp's grace period."""
        for session in list(self.sessions):
            session.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page, its URLs on the host the browser asked for: with --host 0.0.0.0 or through `ssh -L`
        the server's own address is not one the browser can reach."""
        origin = f"{request.scheme}://{request.host}"
        websocket = ("wss:" if request.scheme == "https" else "ws:") + origin.split(":", 1)[1]
        page = aiohttp_jinja2.render_string(
            "app_index.html",
            request,
            {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{websocket}{request.app.router['websocket'].url_for()}",
                "config": {
                    "static": {"url": f"{origin}{request.app.router['static'].url_for(filename='/')}".rstrip("/") + "/"}
                },
                "application": {"name": self.title},
            },
        )
        # Survey answers are often confidential: the page asks nothing of any other site (textual-serve's
        # own page loads a web font from Google; the terminal falls back to a local monospace font).
        page = _LINK.sub(lambda link: link[0] if link["href"].startswith(origin + "/") else "", page)
        return web.Response(text=page, content_type="text/html")


_LINK = re.compile(r"<link\b[^>]*?\bhref=\"(?P<href>[^\"]*)\"[^>]*>")


def serve(db_path: str | Path, question: str | None, host: str, port: int) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM)."""
    CoderServer(db_path, question, host, port).serve()

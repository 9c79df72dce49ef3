"""What a browser shows: `coder serve`'s coding page and `coder report`'s index.html, in headless Chromium.

1. Starts `coder serve` on a temporary copy of the corpus database, opens the
   page in headless Chromium and takes one screenshot once the coding session
   has drawn (polled over the DevTools protocol: a session process takes
   seconds to start, and a fixed `--virtual-time-budget` screenshots the
   loading dialog instead). The PNG must be the app, not an error page, and
   not blank.
2. Writes `coder report` for the corpus (gold codings) and renders index.html
   with `--dump-dom`: every <img> must name a file that exists and is a PNG or
   SVG, every local link a file that exists, the tables and quote files must be
   there, and no raw markup ("[b]", "<td>", "{{", "**") may show as text.

    python benchmarks/browser_check.py [--workdir DIR] [--chromium PATH]

Needs Debian's `chromium` (or --chromium); exits 2 when there is none, 1 when
a check fails, and prints the screenshot's path.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coder.coding.codings import import_codings  # noqa: E402
from coder.store import open_db  # noqa: E402
from coder.survey.load import import_responses  # noqa: E402
from coder.survey.spec import load_spec  # noqa: E402

CORPUS = ROOT / "corpus" / "local-digital-2014"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WINDOW = (1280, 800)
TIMEOUT = 90  # seconds: a bound for a hang on a loaded machine, not a guess at a duration
RAW_MARKUP = ("[b]", "[/", "<td", "<tr", "<img", "</", "{{", "}}", "**", "&lt;", "&amp;")


def find_chromium(given: str | None = None) -> str | None:
    for candidate in (given, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def build_database(folder: Path) -> Path:
    """The bundled corpus with its gold coding: tables, charts and quotes to show."""
    path = folder / "corpus.db"
    db = open_db(path)
    import_responses(db, load_spec(CORPUS / "survey.yaml"), CORPUS / "responses.csv")
    import_codings(db, CORPUS / "codings.csv", coder="gold")
    db.close()
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the process stopped: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listened on port {port} within {TIMEOUT} s") from None
            time.sleep(0.1)


@contextmanager
def started(command: list[str], log: Path, env: dict | None = None):
    """A process in its own group, stopped with everything it started, however the block ends."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def coder_env(workdir: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(workdir), "CODER_EMBEDDINGS": "0"}


# -- 1. the coding page -------------------------------------------------------------------


class DevTools:
    """Just enough of the DevTools protocol: send a command, wait for its answer."""

    def __init__(self, websocket) -> None:
        self.websocket, self.next_id = websocket, 0

    async def call(self, method: str, **params):
        self.next_id += 1
        await self.websocket.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.websocket.receive_json()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def evaluate(self, expression: str):
        return (await self.call("Runtime.evaluate", expression=expression, returnByValue=True))["result"].get("value")


async def capture(devtools_port: int, url: str) -> bytes:
    """Open `url`, wait for the session's first output and for the screen to settle, return a PNG."""
    import aiohttp

    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{devtools_port}/json/list") as answer:
            page = next(t for t in await answer.json() if t["type"] == "page")
        async with client.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as websocket:
            tools = DevTools(websocket)
            await tools.call("Page.navigate", url=url)
            deadline = time.monotonic() + TIMEOUT
            state = "not loaded"
            while state != "drawn":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the coding session did not draw within {TIMEOUT} s (page: {state})")
                await asyncio.sleep(0.2)
                state = await tools.evaluate(
                    "!document.body ? 'not loaded' : document.body.classList.contains('-closed') ? 'closed'"
                    " : document.body.classList.contains('-first-byte') ? 'drawn' : 'connecting'"
                )
                if state == "closed":
                    raise RuntimeError("the session ended at once (see the serve log)")
            previous = None
            while True:  # the same picture twice in a row: the app has finished drawing
                await asyncio.sleep(0.5)
                shot = base64.b64decode((await tools.call("Page.captureScreenshot", format="png"))["data"])
                if shot == previous or time.monotonic() > deadline:
                    return shot
                previous = shot


def screenshot(chromium: str, url: str, png: Path, profile: Path, log: Path) -> None:
    command = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "about:blank",
    ]
    with started(command, log):
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (active.exists() and active.read_text().strip()):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"chromium did not open its DevTools port: {log.read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.1)
        png.write_bytes(asyncio.run(capture(int(active.read_text().split()[0]), url)))


def check_png(png: Path) -> dict:
    """Not blank: the picture has many colours, and much of it is not the background's."""
    from PIL import Image

    with Image.open(png) as image:
        image = image.convert("RGB")
        colours = image.getcolors(maxcolors=1 << 20) or []
        size = image.size
    pixels = size[0] * size[1]
    background = max(colours)[0] if colours else pixels
    result = {"size": list(size), "colours": len(colours), "not_background": round(1 - background / pixels, 4)}
    if len(colours) < 8 or result["not_background"] < 0.01:
        raise RuntimeError(f"the screenshot {png} is blank: {result}")
    return result


# -- 2. the report --------------------------------------------------------------------------


class Page(HTMLParser):
    """What a reader sees: the text outside script/style, images, links and tables."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.tables = 0
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "img":
            self.images.append(attrs.get("src") or "")
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "table":
            self.tables += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


def is_image(path: Path) -> bool:
    head = path.read_bytes()[:512]
    return head.startswith(b"\x89PNG\r\n\x1a\n") or (b"<svg" in head and path.suffix == ".svg")


def check_report(chromium: str, db: Path, folder: Path, workdir: Path) -> dict:
    report = folder / "report"
    subprocess.run(
        [sys.executable, "-m", "coder", "report", str(db), "--output", str(report)],
        check=True,
        env=coder_env(workdir),
        capture_output=True,
    )
    index = report / "index.html"
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile-report'}", "--dump-dom", index.as_uri()],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout
    page = Page()
    page.feed(dom)
    problems = []
    for src in page.images:
        target = report / src
        if not src or "://" in src or not target.is_file() or not is_image(target):
            problems.append(f"image {src!r} does not load")
    local = [href for href in page.links if not href.startswith("#") and "://" not in href]
    problems += [f"link {href!r} names no file" for href in local if not (report / href).is_file()]
    quotes = [href for href in local if href.endswith("-quotes.md")]
    if not quotes:
        problems.append("no quotes are linked")
    quoted = [href for href in quotes if (report / href).is_file() and "> \u201c" in (report / href).read_text("utf-8")]
    text = " ".join(" ".join(page.text).split())
    problems += [
        f"raw markup {mark!r} shows as text: …{text[max(text.find(mark) - 40, 0) : text.find(mark) + 40]}…"
        for mark in RAW_MARKUP
        if mark in text
    ]
    if page.tables == 0 or not re.search(r"\d+(\.\d)?%", text):
        problems.append("no percentage tables")
    if problems:
        raise RuntimeError(f"{index} is broken: " + "; ".join(problems))
    return {
        "index": str(index),
        "tables": page.tables,
        "images": len(page.images),
        "links": len(local),
        "quote_files": len(quotes),
        "quote_files_with_quotes": len(quoted),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="Folder for the database, report and screenshot "
        "(default: a new temporary folder, kept for the screenshot).",
    )
    parser.add_argument(
        "--chromium", default=None, help="The Chromium binary (default: /usr/bin/chromium or chromium on PATH)."
    )
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("no chromium found (install Debian's chromium, or pass --chromium)")
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="coder-browser-check-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = build_database(workdir)
    served = workdir / "served.db"
    shutil.copy(db, served)
    results: dict = {}
    try:
        port = free_port()
        with started(
            [sys.executable, "-m", "coder", "serve", str(served), "--port", str(port), "--question", "q14"],
            workdir / "serve.log",
            env=coder_env(workdir),
        ) as server:
            wait_listening(port, server, workdir / "serve.log")
            png = workdir / "coder-serve.png"
            screenshot(chromium, f"http://127.0.0.1:{port}/", png, workdir / "profile-serve", workdir / "chromium.log")
        results["screenshot"] = {"path": str(png), **check_png(png)}
        results["report"] = check_report(chromium, db, workdir, workdir)
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(json.dumps(results, indent=2))
        print(f"FAILED: {exc}")
        return 1
    print(json.dumps(results, indent=2))
    print(f"screenshot: {results['screenshot']['path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

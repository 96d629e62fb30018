"""``ipcviz serve``: the picker reaches a real browser (headless Chromium) and a websocket."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import psutil
import pytest

from tests.conftest import ipcviz
from tests.lecture.browser import COUNT_COLOURS, Chromium, find_chromium, open_page, wait_for

ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_members(pgid: int) -> list[str]:
    """Living processes of a process group (what a server left running)."""
    out = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid}: {' '.join(p.info['cmdline'] or [])}")
        except (ProcessLookupError, psutil.Error):
            continue
    return out


class Served:
    """``ipcviz serve`` in its own process group; ``stop()`` leaves no process behind."""

    def __init__(self, tmp: Path, port: int, *extra: str) -> None:
        self.port = port
        self.log = tmp / "serve.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ipcviz", "serve", "--port", str(port), *extra],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"ipcviz serve exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("ipcviz serve did not listen within 30 s") from None
                time.sleep(0.1)
        found = re.search(r"serving on (http://\S+/\?token=(\S+))", self.log.read_text())
        assert found, f"no URL with a token printed: {self.log.read_text()[-2000:]}"
        self.url, self.token = found.group(1), found.group(2)

    def ws_url(self, width: int = 160, height: int = 40) -> str:
        """The websocket a browser session opens (the token in its path, as the page has it)."""
        return f"ws://127.0.0.1:{self.port}/ws/{self.token}?width={width}&height={height}"

    def app_processes(self) -> list[psutil.Process]:
        """The ipcviz apps the server started for browser sessions."""
        out = []
        for p in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            if cmd[1:3] == ["-m", "ipcviz"] and "serve" not in cmd:
                out.append(p)
        return out

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """SIGTERM, or ``sig`` (the server stops its app sessions), then make sure of it."""
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        self.left = _group_members(self.proc.pid)  # the server should have ended them all
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._log.close()
        return -1 if rc is None else rc


@pytest.fixture
def served(tmp_path: Path):
    server = Served(tmp_path, free_port())
    try:
        yield server
    finally:
        rc = server.stop()
        assert rc == 0, f"serve did not stop cleanly ({rc}): {server.log.read_text()[-2000:]}"
        assert not server.left, f"serve exited, its sessions did not: {server.left}"


async def _read_app_screen(url: str, deadline: float) -> str:
    """Connect as the browser does; collect what the served app draws, without ANSI codes."""
    screen = b""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        while time.monotonic() < deadline:
            try:
                msg = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if msg.type == aiohttp.WSMsgType.BINARY:
                screen += ANSI.sub(b"", msg.data)
                if b"choose a scenario" in screen and b"pipe-basic" in screen:
                    break
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        await ws.send_str(json.dumps(["stdin", "\x03"]))  # Ctrl-C: the app quits
    return screen.decode("utf-8", "replace")


def test_serve_websocket_session_draws_the_picker(served: Served) -> None:
    """A websocket client gets its own ipcviz app, and the app draws the picker."""
    text = asyncio.run(_read_app_screen(served.ws_url(), time.monotonic() + 40))
    assert "choose a scenario" in text, text[-1500:]
    assert "pipe-basic" in text and "producer-consumer" in text


def test_serve_in_headless_chromium(served: Served, tmp_path: Path) -> None:
    """The page loads in Chromium, its websocket starts the app, the picker is on screen."""
    exe = find_chromium()
    browser = Chromium(exe, tmp_path / "profile")
    try:
        port = browser.devtools_port(time.monotonic() + 30)
        stats, png = asyncio.run(_browse(port, served, tmp_path))
    finally:
        browser.close()
    (tmp_path / "picker.png").write_bytes(png)
    assert png.startswith(b"\x89PNG")
    assert picker_on_screen(stats), stats


def picker_on_screen(stats: dict) -> bool:
    """The page's own background is #0c181f; the app's theme is pure black with a yellow
    (#ffd700) title bar and yellow scenario ids, and white text: all only appear once the
    picker rendered (and the terminal finished fading in)."""
    total = stats["total"]
    return (
        stats["black"] > 0.3 * total
        and stats["yellow"] > 0.005 * total
        and stats["light"] > 0.002 * total
        and stats["colours"] > 10
    )


async def _browse(port: int, served: Served, tmp_path: Path) -> tuple[dict, bytes]:
    session, page = await open_page(port)
    try:
        await page.call("Page.enable")
        await page.call("Page.navigate", url=served.url)  # the printed URL, token and all
        deadline = time.monotonic() + 40
        # textual.js adds "-first-byte" when the app's first output arrived over the websocket
        await wait_for(page, "document.body.classList.contains('-first-byte')", deadline)
        assert served.app_processes(), "the websocket session started no ipcviz app"
        stats: dict = {}
        png = b""
        while time.monotonic() < deadline:  # the first frames may be blank or fading in
            png = await page.screenshot()
            b64 = json.dumps(__import__("base64").b64encode(png).decode())
            stats = await page.evaluate(f"{COUNT_COLOURS}({b64})")
            if picker_on_screen(stats):
                break
            await asyncio.sleep(0.3)
        return stats, png
    finally:
        await page.ws.close()
        await session.close()


def test_serve_bad_port_is_a_usage_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        result = ipcviz("serve", "--port", str(busy), timeout=30)
    assert result.returncode == 2
    assert "already in use" in result.stderr and "Traceback" not in result.stderr
    result = ipcviz("serve", "--port", "70000", timeout=30)
    assert result.returncode == 2 and "between 1 and 65535" in result.stderr


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:  # gone, or a zombie
        return ""


async def _start_a_run(served: Served, deadline: float) -> list[int]:
    """Open a session, run the picker's first scenario, return the engine pids seen."""
    url = served.ws_url()
    screen = b""
    started = False
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        while time.monotonic() < deadline:
            try:
                msg = await ws.receive(timeout=0.2)
            except TimeoutError:
                msg = None
            if msg is not None and msg.type == aiohttp.WSMsgType.BINARY:
                screen += ANSI.sub(b"", msg.data)
            if not started and b"choose a scenario" in screen:
                await ws.send_str(json.dumps(["stdin", "\r"]))  # Enter: run the first one
                started = True
            engines = [
                p.pid
                for p in psutil.Process(served.proc.pid).children(recursive=True)
                if "ipcviz.engine" in _cmdline(p)
            ]
            if started and engines and b"live" in screen:
                return engines  # the server is stopped with this session still running
    raise AssertionError(f"no live run started: {screen[-800:]!r}")


def test_stopping_the_server_ends_running_sessions(tmp_path: Path) -> None:
    """SIGTERM to ``ipcviz serve`` while a browser session runs a scenario: the app, its
    engine and its workers end, and their kernel objects are removed (autouse leak check)."""
    server = Served(tmp_path, free_port())
    try:
        engines = asyncio.run(_start_a_run(server, time.monotonic() + 40))
    finally:
        rc = server.stop()
    assert rc == 0, server.log.read_text()[-2000:]
    assert not server.left, f"serve exited, its sessions did not: {server.left}"
    for pid in engines:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


async def _until_picker(ws: aiohttp.ClientWebSocketResponse, deadline: float) -> None:
    """Read the session's frames until its scenario picker is drawn."""
    screen = b""
    while b"choose a scenario" not in screen:
        assert time.monotonic() < deadline, f"no picker drawn: {screen[-800:]!r}"
        try:
            msg = await ws.receive(timeout=0.5)
        except TimeoutError:
            continue
        if msg.type == aiohttp.WSMsgType.BINARY:
            screen += ANSI.sub(b"", msg.data)


async def _stop_during_a_session(server: Served, sig: int, deadline: float) -> tuple[int, list]:
    """Open a browser session, wait for its picker, and stop the server with ``sig``
    while the session is still open; return the server's exit code and the session's app."""
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url()) as ws:
        await _until_picker(ws, deadline)
        apps = server.app_processes()
        rc = await asyncio.to_thread(server.stop, sig)
    return rc, apps


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_stopping_the_server_with_a_session_open_ends_it(tmp_path: Path, sig: int) -> None:
    """SIGTERM or SIGHUP (the terminal that ran ``ipcviz serve`` closed) while a browser
    tab is open: the server closes its websocket, ends its app and exits 0, well within
    ``Served.stop``'s 15 s. Before, aiohttp waited ~15 s for the open websocket's handler
    and the app took 5 more (21 s); SIGHUP killed the server alone, and each app ran on,
    orphaned (with the run it had started, its engine and objects)."""
    server = Served(tmp_path, free_port())
    apps: list[psutil.Process] = []
    try:
        rc, apps = asyncio.run(_stop_during_a_session(server, sig, time.monotonic() + 40))
    finally:
        server.stop()  # (already stopped: makes sure of it)
        left = [p for p in apps if _running(p)]
        for p in left:  # a failed test leaks nothing
            os.killpg(p.pid, signal.SIGKILL)
    assert apps, "the session had no app"
    assert rc == 0, server.log.read_text()[-2000:]
    assert not left, f"serve exited, its sessions did not: {left}"


async def _kill_the_server_during_a_run(server: Served, deadline: float) -> list:
    """Open a session, start the picker's first scenario, and SIGKILL the server while the
    run is live and the session open; return every process the server had started."""
    screen = b""
    started = False
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url()) as ws:
        while True:
            assert time.monotonic() < deadline, f"no live run started: {screen[-800:]!r}"
            try:
                msg = await ws.receive(timeout=0.2)
            except TimeoutError:
                msg = None
            if msg is not None and msg.type == aiohttp.WSMsgType.BINARY:
                screen += ANSI.sub(b"", msg.data)
            if not started and b"choose a scenario" in screen:
                await ws.send_str(json.dumps(["stdin", "\r"]))  # Enter: run the first one
                started = True
            tree = psutil.Process(server.proc.pid).children(recursive=True)
            if started and b"live" in screen and any("ipcviz.engine" in _cmdline(p) for p in tree):
                server.proc.kill()
                server.proc.wait()
                return tree


def test_a_killed_server_leaves_no_session_running(tmp_path: Path) -> None:
    """SIGKILL (or the OOM killer) to ``ipcviz serve`` during a browser session's run: the
    session's app is told (SIGHUP) and ends, and with it its engine, workers and objects
    (autouse leak check). Before, the app ran on forever: its web driver does not end
    when its input does, and a killed server can end nothing."""
    server = Served(tmp_path, free_port())
    started: list[psutil.Process] = []
    try:
        started = asyncio.run(_kill_the_server_during_a_run(server, time.monotonic() + 40))
        deadline = time.monotonic() + 30  # a bound, not a race: they end in about 1 s
        while any(_running(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [f"{p.pid}: {_cmdline(p)}" for p in started if _running(p)]
    finally:
        for p in started:  # a failed test leaks nothing
            try:
                p.kill()
            except psutil.Error:
                pass
        server.stop()
    assert started, "the server had started no app"
    assert not left, f"the server was killed, its sessions ran on: {left}"


def _raw_status(port: int, start: bytes) -> int:
    """HTTP status of a request written byte for byte (``start``: its first lines, which
    no client library lets hold bytes that are not UTF-8), with this server's Host."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(start + b"Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port)
        head = s.recv(64)
    return int(head.split(b" ", 2)[1])


async def _status(url: str, headers: dict[str, str] | None = None, ws: bool = False) -> int:
    """HTTP status of a GET (or of a websocket handshake) to the real server."""
    async with aiohttp.ClientSession() as session:
        if ws:
            try:
                async with session.ws_connect(url, headers=headers or {}) as sock:
                    await sock.close()
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
        async with session.get(url, headers=headers or {}) as r:
            await r.read()
            return r.status


def test_requests_without_the_token_or_from_a_foreign_origin_get_403(served: Served) -> None:
    """No token, a wrong token, a foreign Origin or a foreign Host: 403 for the page, its
    assets and the websocket, so neither another local user nor a web page in the browser
    can start an app. The printed URL works, and its cookie lets the page load its assets."""
    base = f"http://127.0.0.1:{served.port}"
    ws = f"ws://127.0.0.1:{served.port}"
    good = served.token
    evil = {"Origin": "http://evil.example"}

    async def check() -> dict[str, int]:
        return {
            "page, no token": await _status(f"{base}/"),
            "page, wrong token": await _status(f"{base}/?token=x{good}"),
            "asset, no token": await _status(f"{base}/static/js/textual.js"),
            "ws, no token": await _status(f"{ws}/ws?width=80&height=24", ws=True),
            "ws, wrong token": await _status(f"{ws}/ws/{good[:-1]}?width=80", ws=True),
            "ws, foreign origin": await _status(served.ws_url(), evil, ws=True),
            "page, foreign origin": await _status(served.url, evil),
            "page, rebinding host": await _status(
                served.url, {"Host": f"evil.example:{served.port}"}
            ),
        }

    refused = asyncio.run(check())
    assert refused == {k: 403 for k in refused}, refused
    # bytes that are no UTF-8 where a token may be: refused (aiohttp's 400 for a path),
    # not a 500 (a cookie's raised in the token check)
    garbled = {
        "cookie": _raw_status(served.port, b"GET / HTTP/1.1\r\nCookie: ipcviz_token=\xff\r\n"),
        "path": _raw_status(served.port, b"GET /ws/\xff\xfe HTTP/1.1\r\n"),
    }
    assert garbled == {"cookie": 403, "path": 400}, garbled

    async def with_token() -> tuple[int, str, int, int]:
        jar = aiohttp.CookieJar(unsafe=True)  # keep the cookie of an IP-address host
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(served.url) as r:
                page = await r.text()
                status = r.status
            async with session.get(f"{base}/static/js/textual.js") as r:
                asset = r.status
        own = {"Origin": base}
        return status, page, asset, await _status(served.ws_url(), own, ws=True)

    status, page, asset, ws_status = asyncio.run(with_token())
    assert status == 200 and f"/ws/{good}" in page
    assert asset == 200
    assert ws_status == 101  # the page's own origin, with the token: let in (then closed)
    # the websocket's address fetched as a page, with the token: an answer, not a 500
    plain = served.ws_url().replace("ws://", "http://")
    assert asyncio.run(_status(plain, {"Origin": base})) == 426


def test_the_log_shows_the_token_only_in_the_one_url_it_prints(tmp_path: Path) -> None:
    """The access log printed every request line and its Referer: ``GET /?token=SECRET``,
    ``GET /ws/SECRET``, on a terminal a projector may show. Only the one line that tells
    the user the URL to open may carry the token; every request line shows ``…`` instead."""
    server = Served(tmp_path, free_port())
    base = f"http://127.0.0.1:{server.port}"
    own = {"Origin": base}
    try:

        async def requests() -> list[int]:
            return [
                await _status(server.url),
                await _status(f"{base}/static/js/textual.js", {"Referer": server.url}),
                await _status(server.ws_url().replace("ws://", "http://"), own),
                await _status(server.ws_url(), own, ws=True),
                await _status(f"{base}/?token=x{server.token}"),
            ]

        statuses = asyncio.run(requests())
    finally:
        rc = server.stop()  # the log is complete once the server has exited
    assert rc == 0 and statuses == [200, 403, 426, 101, 403], (rc, statuses)
    lines = server.log.read_text().splitlines()
    with_token = [ln for ln in lines if server.token[:12] in ln]
    assert with_token == [f"ipcviz: serving on {server.url}"], with_token
    requests_logged = [ln for ln in lines if "GET" in ln]
    assert len(requests_logged) >= 5 and all("…" in ln for ln in requests_logged), lines


def test_closing_the_browser_session_ends_its_app_engine_and_workers(served: Served) -> None:
    """The websocket closes while a scenario runs: the server ends that session's app, whose
    engine ends its workers and removes its kernel objects (autouse leak check); the server
    itself keeps serving."""
    with_workers: list[int] = []
    engines = asyncio.run(_start_a_run(served, time.monotonic() + 40))
    for pid in engines:
        try:
            with_workers += [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    gone = engines + with_workers
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = [p for p in gone if _alive(p)] + [p.pid for p in served.app_processes()]
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"still running after the session closed: {left}"
    assert served.proc.poll() is None, "the server stopped"


async def _garbage_then_ping(server: Served, deadline: float) -> list[str]:
    """Open a session, wait for its picker, send frames no browser sends, then a ping:
    return the text messages that came back."""
    texts: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(server.ws_url()) as ws:
        await _until_picker(ws, deadline)
        await ws.send_bytes(b"\x00\xff" * 1000)
        for garbage in ("not json", "[]", '{"a": 1}', '["resize", []]', '["stdin", 7]'):
            await ws.send_str(garbage)
        await ws.send_str('["stdin", "\\ud800"]')  # a lone surrogate, escaped as JSON does
        await ws.send_str(json.dumps(["ping", "still there"]))
        while time.monotonic() < deadline and not any("pong" in t for t in texts):
            try:
                msg = await ws.receive(timeout=0.5)
            except TimeoutError:
                continue
            if msg.type == aiohttp.WSMsgType.TEXT:
                texts.append(msg.data)
            elif msg.type != aiohttp.WSMsgType.BINARY:
                break  # closed
        if not ws.closed:
            await ws.send_str(json.dumps(["stdin", "\x03"]))  # Ctrl-C: the app quits
    return texts


def test_garbage_frames_leave_the_session_running(served: Served) -> None:
    """Frames no browser sends (binary, not JSON, wrong shapes, a lone surrogate in the
    keys typed) are dropped; the session goes on and answers a ping. A lone surrogate
    (``"\\ud800"``, which JavaScript's JSON.stringify writes for a broken string) made
    the stdin encoding raise, and that ended the whole session, its run with it."""
    texts = asyncio.run(_garbage_then_ping(served, time.monotonic() + 40))
    assert json.dumps(["pong", "still there"]) in texts, texts


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


NOBODY_GET = r"""
import sys, urllib.error, urllib.request
for url in sys.argv[1:]:
    try:
        print(urllib.request.urlopen(url, timeout=20).status)
    except urllib.error.HTTPError as e:
        print(e.code)
"""


def test_another_user_of_the_machine_is_refused(served: Served) -> None:
    """uid 65534 reaches the port (it is on localhost) but not the app: 403 without the
    token, for the page and for the websocket handshake."""
    from tests.faults.test_security import _as_nobody

    base = f"http://127.0.0.1:{served.port}"
    r = _as_nobody(NOBODY_GET, f"{base}/", f"{base}/ws", f"{base}/ws/guess", f"{base}/static/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["403"] * 4, r.stdout


def _own_ipv4() -> str | None:
    """An IPv4 address of this machine other than loopback (what a student's laptop types)."""
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return None


def test_serving_everywhere_lets_in_a_browser_that_names_the_machine_by_its_address(
    tmp_path: Path,
) -> None:
    """``--host 0.0.0.0`` is for the room: a laptop opens http://ADDRESS:PORT/?token=…
    with the machine's IP address, which only the loopback names and the host name were
    allowed as (403 "unknown Host" for every student). The address is the server's own,
    so a DNS-rebinding page (its own name in Host) is refused as before."""
    address = _own_ipv4()
    if address is None:
        pytest.skip("this machine has no IPv4 address but loopback")
    server = Served(tmp_path, free_port(), "--host", "0.0.0.0")
    try:
        base = f"http://{address}:{server.port}"

        async def statuses() -> tuple[int, int, int]:
            page = await _status(f"{base}/?token={server.token}")
            own = {"Origin": base}
            ws = f"ws://{address}:{server.port}/ws/{server.token}?width=80&height=24"
            rebound = {"Host": f"evil.example:{server.port}"}
            return (
                page,
                await _status(ws, own, ws=True),
                await _status(f"{base}/?token={server.token}", rebound),
            )

        page, ws_status, rebound = asyncio.run(statuses())
    finally:
        rc = server.stop()
    assert (page, ws_status, rebound) == (200, 101, 403)
    assert rc == 0 and not server.left, server.log.read_text()[-2000:]

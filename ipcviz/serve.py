"""``ipcviz serve``: the app in a web browser (a projector, or students on their laptops).

textual-serve runs a small web server; every browser tab that connects gets its own
``ipcviz`` process (the picker first), driven over a websocket and drawn by xterm.js.

The served app runs scenarios as the user who started the server, so the server lets in
only whoever holds the secret token printed in its URL (as Jupyter does): any other local
user, or any web page the browser visits, gets 403. A request whose ``Origin`` is not the
server itself is refused too, and so is a ``Host`` that is not the server's own name (a
DNS-rebinding page). When a browser session ends, its app is ended, and with it the app's
engines, workers and kernel objects (an engine cleans up when its viewer's pipe closes).
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import logging
import os
import re
import secrets
import signal
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

from ipcviz.cli import SERVED_BY
from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

#: Name of the cookie the index page sets, so the page's own assets need no token.
COOKIE = "ipcviz_token"
#: Seconds a session's app gets to quit by itself before its process group is killed.
QUIT_GRACE = 5.0


def app_argv(present: bool = False) -> list[str]:
    """The command textual-serve starts for each browser session (the picker)."""
    argv = [sys.executable, "-m", "ipcviz"]
    if present:
        argv.append("--present")
    return argv


def check_port(host: str, port: int) -> None:
    """Fail with one clear line (exit 2) if the address is not usable, before serving."""
    if not 0 < port < 65536:
        raise IpcvizError(_("--port {port}: give a port between 1 and 65535").format(port=port))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise IpcvizError(
            _("--host {host}: not a usable address ({strerror})").format(
                host=host, strerror=exc.strerror
            )
        ) from None
    family, kind, proto, _canon, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise IpcvizError(
                _("cannot serve on {host}:{port}: {why}").format(host=host, port=port, why=why)
            ) from None


def _url_host(host: str) -> str:
    """``host`` as it goes in a URL (IPv6 addresses in brackets)."""
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def own_addresses() -> set[str]:
    """Every IP address of this machine's interfaces (an IPv6 one without its ``%zone``)."""
    import psutil

    out = set()
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                out.add(a.address.split("%", 1)[0])
    return out


def allowed_hosts(host: str, port: int) -> set[str]:
    """``Host`` header values (and Origin netlocs) that name this server."""
    names = {host, "localhost", "127.0.0.1", "::1"}
    if host in ("0.0.0.0", "::", ""):
        # listening everywhere, for the room: the machine's own names, and its addresses,
        # which a laptop types (only a name can be rebound by DNS, never an address)
        names |= {socket.gethostname(), socket.getfqdn(), *own_addresses()}
    out: set[str] = set()
    for name in names:
        out |= {f"{_url_host(name)}:{port}".lower()}
        if port == 80:
            out.add(_url_host(name).lower())
    return out


def request_refusal(
    headers: Any, query_token: str | None, path_token: str | None, token: str, hosts: set[str]
) -> str | None:
    """Why a request must be refused (403), or None to let it in.

    Pure, so the rules can be read in one place: a known ``Host``; an ``Origin``, if the
    client sent one (browsers always do for websockets and cross-site requests), naming this
    server; and the token in the query, the path or the cookie the index page set.
    """
    host = (headers.get("Host") or "").lower()
    if host not in hosts:
        return f"unknown Host {host!r}"
    origin = headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
            return f"foreign Origin {origin!r}"
    cookie = _cookie(headers.get("Cookie") or "")
    for given in (query_token, path_token, cookie):
        # "replace": a header's bytes that are no UTF-8 come as surrogates, which raised
        # (a 500); a '?' is in no token (token_urlsafe), so such a value is just wrong
        if given and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode()):
            return None
    return "no valid token"


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _eq, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


#: Where a token can appear in a logged request: its query, the websocket's path, a Referer
#: (the page's assets are fetched from ``/?token=…``) or a cookie.
_TOKENISH = re.compile(rf"((?:[?&;]token=|/ws/|{COOKIE}=))[^\s&;\"'?]+")
REDACTED = "…"


def redact(text: str, token: str) -> str:
    """``text`` with the token, and anything given in a token's place, shown as ``…``.

    The token is the key to running programs as the server's user: a log line (a file, a
    terminal a projector shows, a screen share) must not hand it on. A wrong token is
    hidden too: it may be a real one of another server, mistyped."""
    if token:
        text = text.replace(token, REDACTED)
    return _TOKENISH.sub(lambda m: m.group(1) + REDACTED, text)


class RedactToken(logging.Filter):
    """Rewrites every log record so that no line the server logs carries the token (the
    access log prints each request line and its Referer)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = redact(message, self.token)
        if shown != message:
            record.msg, record.args = shown, ()
        return True


def make_server(host: str, port: int, present: bool, token: str) -> Any:
    """The textual-serve server with the token, Origin and session-end rules added."""
    from aiohttp import WSCloseCode, WSMsgType, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    hosts = allowed_hosts(host, port)

    class SessionApp(AppService):
        """One browser session's app, in a process group of its own so it can be ended."""

        def __init__(self, argv: list[str], **kw: Any) -> None:
            super().__init__(" ".join(argv), **kw)
            self.argv = argv

        async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
            env = self._build_environment(width=width, height=height)
            env[SERVED_BY] = str(os.getpid())  # it ends when the server dies, however
            self._process = process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
            self._stdin = process.stdin
            return process

        async def end(self) -> None:
            """Ask the app to quit; if it has not within QUIT_GRACE, kill its group."""
            proc = self._process
            try:
                await asyncio.wait_for(self.stop(), QUIT_GRACE)
            except (TimeoutError, ConnectionError, OSError):
                pass
            if proc is None:
                return
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if proc.returncode is not None:
                    break
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    await asyncio.wait_for(proc.wait(), QUIT_GRACE)
                except TimeoutError:
                    continue
            if self._task is not None:
                self._task.cancel()
                self._task = None

    class TokenServer(Server):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            #: The browser sessions' websockets still open, closed when the server stops.
            self.sockets: set[Any] = set()

        @web.middleware
        async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
            why = request_refusal(
                request.headers,
                request.query.get("token"),
                request.match_info.get("token"),
                token,
                hosts,
            )
            if why is not None:
                return web.Response(status=403, text=f"403 Forbidden: {why}\n")
            response = await handler(request)
            if request.path == "/" and not response.prepared:
                response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
                response.headers["Cache-Control"] = "no-store"
            return response

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(self.guard)
            app.router.add_get("/ws/{token}", self.handle_websocket)
            return app

        async def on_startup(self, app: web.Application) -> None:
            pass  # the URL with its token is printed by serve(); no banner

        async def on_shutdown(self, app: web.Application) -> None:
            """The server stops (Ctrl-C, SIGTERM, SIGHUP): close every session's websocket,
            so that each handler ends its app now. Left open, aiohttp waited some 15 s for
            the handlers before cancelling them: a stop with a browser tab open took 21 s."""
            await asyncio.gather(
                *(ws.close(code=WSCloseCode.GOING_AWAY) for ws in list(self.sockets)),
                return_exceptions=True,
            )

        def serve(self, debug: bool = False) -> None:
            """textual-serve's, with SIGHUP (the terminal closed, an ssh session dropped)
            ending the server as SIGINT and SIGTERM do: its sessions end and clean up.
            Left to the default, SIGHUP killed the server alone and each browser
            session's app ran on, orphaned, with whatever run it had started."""
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)  # the loop super().serve() gets and runs
            loop.add_signal_handler(signal.SIGHUP, self.request_exit)
            super().serve(debug)

        def initialize_logging(self) -> None:
            """textual-serve's log handler, and on it a filter that takes the token out
            of every line (the one URL with it is printed once, by serve())."""
            super().initialize_logging()
            for handler in logging.getLogger().handlers:
                handler.addFilter(RedactToken(token))

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            """The page, with URLs on the host the browser used (its cookie goes there),
            and the websocket URL carrying the token in its path (textual.js appends
            "?width=…" to it, so it cannot be a query parameter)."""
            import aiohttp_jinja2

            base = f"{request.scheme}://{request.host}"
            ws_scheme = "wss" if request.scheme == "https" else "ws"
            context = {
                "font_size": _int(request.query.get("fontsize"), 16),
                "app_websocket_url": f"{ws_scheme}://{request.host}/ws/{token}",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template("app_index.html", request, context)

        async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
            websocket = web.WebSocketResponse(heartbeat=15)
            if not websocket.can_prepare(request).ok:  # a plain GET: an answer, not a 500
                return web.Response(
                    status=426,
                    text="426 Upgrade Required: this address takes a websocket\n",
                    headers={"Upgrade": "websocket", "Connection": "Upgrade"},
                )
            width = _int(request.query.get("width"), 80)
            height = _int(request.query.get("height"), 24)
            service: SessionApp | None = None
            try:
                await websocket.prepare(request)
                self.sockets.add(websocket)
                service = SessionApp(
                    app_argv(present),
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,
                    download_manager=self.download_manager,
                    debug=False,
                )
                await service.start(width, height)
                async for message in websocket:
                    if message.type != WSMsgType.TEXT:
                        continue
                    await self._one_message(websocket, service, message.data)
            except asyncio.CancelledError:
                pass
            except Exception:  # a broken client must not take the server down
                pass
            finally:
                self.sockets.discard(websocket)
                if service is not None:
                    await asyncio.shield(service.end())
                if not websocket.closed:
                    await websocket.close()
            return websocket

        async def _one_message(self, websocket: Any, service: Any, raw: str) -> None:
            import json

            try:
                envelope = json.loads(raw)
            except ValueError:
                return
            if not isinstance(envelope, list) or len(envelope) < 2:
                return
            kind, data = envelope[0], envelope[1]
            if kind == "stdin" and isinstance(data, str):
                # "replace": a lone surrogate (a broken string's JSON) is a "?", where it
                # raised and ended the session; invalid UTF-8 would stop the app's input
                await service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(
                    _int(data.get("width"), 80), _int(data.get("height"), 24)
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    server = TokenServer(
        " ".join(app_argv(present)),
        host=host,
        port=port,
        title="ipcviz",
        public_url=f"http://{_url_host(host)}:{port}",
    )

    return server


def _int(value: Any, default: int) -> int:
    try:
        return max(1, min(int(value), 1000))
    except (TypeError, ValueError):
        return default


def serve(host: str = "127.0.0.1", port: int = 8000, present: bool = False) -> int:
    """Serve the picker on http://host:port until Ctrl-C / SIGTERM; returns the exit code."""
    try:
        import textual_serve.server  # noqa: F401
    except ImportError:
        raise IpcvizError(
            _("`ipcviz serve` needs textual-serve: pip install 'ipcviz[serve]'")
        ) from None
    check_port(host, port)
    token = secrets.token_urlsafe(24)
    server = make_server(host, port, present, token)
    url = f"http://{_url_host(host)}:{port}/?token={token}"
    print(
        f"ipcviz: serving on {url}\n"
        "ipcviz: only this URL (with its token) lets a browser in; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve()
    finally:
        wait_for_sessions()
    return 0


def wait_for_sessions(grace: float = 15.0) -> None:
    """After the web server stopped, let each app session finish its own cleanup (it stops
    its engines, which remove their kernel objects), then make sure nothing is left: the
    server must not exit while a session of it still runs."""
    import psutil

    procs = psutil.Process().children(recursive=True)
    _gone, alive = psutil.wait_procs(procs, timeout=grace)
    for sig_name in ("terminate", "kill"):
        if not alive:
            return
        for p in alive:
            try:
                getattr(p, sig_name)()
            except psutil.Error:
                pass
        _gone, alive = psutil.wait_procs(alive, timeout=5)

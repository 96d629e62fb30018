"""``ipcviz serve``: the app in a web browser (a projector, or students on their laptops).

textual-serve runs a small web server; every browser tab that connects gets its own
``ipcviz`` process (the picker first), driven over a websocket and drawn by xterm.js. The
served app is the ordinary app: it starts its engines as subprocesses and stops them when
the tab closes or the server stops, so nothing the kernel holds outlives a session.
"""

from __future__ import annotations

import errno
import shlex
import socket
import sys

from ipcviz.errors import IpcvizError


def app_command(present: bool = False) -> str:
    """The shell command textual-serve starts for each browser session (the picker)."""
    argv = [sys.executable, "-m", "ipcviz"]
    if present:
        argv.append("--present")
    return shlex.join(argv)


def check_port(host: str, port: int) -> None:
    """Fail with one clear line (exit 2) if the address is not usable, before serving."""
    if not 0 < port < 65536:
        raise IpcvizError(f"--port {port}: give a port between 1 and 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise IpcvizError(f"--host {host}: not a usable address ({exc.strerror})") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise IpcvizError(f"cannot serve on {host}:{port}: {why}") from None


def serve(host: str = "127.0.0.1", port: int = 8000, present: bool = False) -> int:
    """Serve the picker on http://host:port until Ctrl-C / SIGTERM; returns the exit code."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise IpcvizError(
            "`ipcviz serve` needs textual-serve: pip install 'ipcviz[serve]'"
        ) from None
    check_port(host, port)
    server = Server(app_command(present), host=host, port=port, title="ipcviz")
    print(f"ipcviz: serving on http://{host}:{port} (Ctrl-C stops)", file=sys.stderr, flush=True)
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

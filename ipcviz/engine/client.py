"""Starting the engine as a fresh process and talking to it. Used by the CLI and the TUI.

The viewer never forks: the engine is started with ``subprocess`` in its own session, so
terminal signals reach the viewer only, and the viewer decides how to stop the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ipcviz.errors import TraceError


class EngineProcess:
    """One running engine: ``events()`` yields its stream; ``send()`` controls it."""

    #: Engine options used when ``extra`` is not given (``ipcviz run --seed/--schedule`` sets
    #: them for the TUI, which starts its engines itself).

    def __init__(
        self,
        scenario_path: Path,
        trace: Path,
        timeout: float = -1.0,
        quick: bool = False,
        lang: str = "en",
        extra: list[str] | None = None,
    ) -> None:
        self.trace = trace
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        cmd = [
            sys.executable,
            "-m",
            "ipcviz.engine",
            str(scenario_path),
            "--trace",
            str(trace),
            "--timeout",
            str(timeout),
            "--lang",
            lang,
        ]
        if quick:
            cmd.append("--quick")
        cmd += extra or []
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            start_new_session=True,
            close_fds=True,
        )
        self.header: dict[str, Any] | None = None

    def events(self) -> Iterator[dict[str, Any]]:
        """The header first, then every event until the engine closes the stream."""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                obj = json.loads(raw)
            except ValueError:
                raise TraceError(f"engine sent a line that is not JSON: {raw[:80]!r}") from None
            if self.header is None:
                self.header = obj
            yield obj

    def send(self, cmd: str, **fields: Any) -> None:
        """Send a control command (freeze, resume, kill, stop, …); ignored once it ended."""
        if self.proc.poll() is not None or self.proc.stdin is None:
            return
        try:
            self.proc.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def stop(self) -> None:
        self.send("stop")

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout)

    def terminate(self, grace: float = 3.0) -> int:
        """Stop the engine for sure: ask, then SIGTERM, then SIGKILL."""
        self.stop()
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
        try:
            return self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def stderr_tail(self, lines: int = 5) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return "\n".join(text[-lines:])

    def close(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        self._stderr.close()


def default_trace_path(scenario_id: str, trace_dir: Path) -> Path:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    trace_dir.mkdir(parents=True, exist_ok=True)
    base = trace_dir / f"{stamp}-{scenario_id}"
    path = base.with_suffix(".jsonl")
    n = 1
    while path.exists():
        n += 1
        path = Path(f"{base}-{n}.jsonl")
    return path

"""Starting the engine as a fresh process and talking to it. Used by the CLI and the TUI.

The viewer never forks: the engine is started with ``subprocess`` in its own session, so
terminal signals reach the viewer only, and the viewer decides how to stop the run.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ipcviz.bytefmt import safe_text
from ipcviz.engine.options import EngineOptions
from ipcviz.errors import IpcvizError, TraceError
from ipcviz.events.codec import decode_line
from ipcviz.i18n import _


class EngineProcess:
    """One running engine: ``events()`` yields its stream; ``send()`` controls it.

    ``EngineProcess(options)``, or ``EngineProcess(scenario, trace, **fields)`` with the
    fields of ``EngineOptions`` (the same thing, shorter to write).
    """

    def __init__(
        self, options: EngineOptions | Path, trace: Path | None = None, **fields: Any
    ) -> None:
        from ipcviz.session.registry import new_session_id

        options = engine_options(options, trace, **fields)
        if options.sid is None:
            # The engine's session id, chosen here: the viewer can clean that one session
            # up if the engine dies, without touching any other.
            options = options.replace(sid=new_session_id())
        self.options = options
        self.trace = options.trace
        self.sid: str = options.sid  # type: ignore[assignment]  # set just above
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        cmd = options.command()
        # The engine starts with SIGUSR1 (``hurry``) blocked and unblocks it once its
        # handler is in place (``Engine._install_signals``): by default the signal ends a
        # process, and a double Ctrl-C in its first 0.2 s killed the engine ("stopped
        # unexpectedly (status -10)", and no trace). Held back, it is handled then.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:  # EAGAIN under `ulimit -u`, EMFILE, ENOMEM: one clear line
            self._stderr.close()
            hint = " (the process limit, ulimit -u?)" if exc.errno == errno.EAGAIN else ""
            raise IpcvizError(
                _("cannot start the engine: {strerror}{hint}").format(
                    strerror=exc.strerror, hint=hint
                )
            ) from None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.header: dict[str, Any] | None = None
        #: The stream ended in the middle of a line: the engine was killed while writing.
        self.cut = False

    def events(self) -> Iterator[dict[str, Any]]:
        """The header first, then every event until the engine closes the stream."""
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[dict[str, Any]]]:
        """The stream as it arrives: each list holds the events one read of the pipe brought
        (the header first), so a reader can write its output once per list, not per event."""
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        rest = b""
        while chunk := stream.read1(1 << 16):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()  # after the last newline: a line still on its way
            batch = []
            for raw in lines:
                try:
                    obj = decode_line(raw, "surrogatepass")
                except ValueError:
                    yield batch  # what came before the bad line is told first
                    raise TraceError(
                        _("engine sent a line that is not JSON: {raw!r}").format(raw=raw[:80])
                    ) from None
                if self.header is None:
                    self.header = obj
                batch.append(obj)
            yield batch
        if rest:  # EOF inside a line: the engine died mid-write
            self.cut = True

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

    def hurry(self) -> None:
        """Stop at once: what the processes did that the engine has not yet put in order
        is left out, and the trace's end says how much (the user's second Ctrl-C). A
        signal, as a busy engine reads no command until its turn ends."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout)

    def terminate(self, grace: float = 3.0, patience: float = 30.0) -> int:
        """Stop the engine for sure: ask, then SIGTERM, then SIGKILL; then make sure its
        session left nothing (an engine killed by a signal could not clean up).

        Asked to stop, an engine that is still working on it (its CPU time grows: it
        removes objects, reaps workers, writes the end of its trace) gets up to
        ``patience`` seconds, not only ``grace``: at nice 10 on a loaded machine its
        cleanup can take longer, and a signal would cost the trace its ``session.end``."""
        self.stop()
        try:
            rc = self._wait_while_working(grace, patience)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                rc = self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        self.clean_up_after()
        return rc

    def _wait_while_working(self, grace: float, patience: float) -> int:
        """Wait ``grace`` seconds at a time while the engine's CPU time grows, at most
        ``patience`` in all (TimeoutExpired: it stopped making progress, or took too long)."""
        deadline = time.monotonic() + patience
        used = _cpu_ticks(self.proc.pid)
        while True:
            try:
                return self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                now = _cpu_ticks(self.proc.pid)
                if now is None or now == used or time.monotonic() + grace > deadline:
                    raise
                used = now

    def clean_up_after(self) -> dict[str, int]:
        """Remove what this engine's session left, if the engine is dead and did not clean
        up itself (its registry is still there). Touches no other session."""
        from ipcviz.session.cleanup import clean_session

        if self.proc.poll() is None:
            return {}
        try:
            return clean_session(self.sid)
        except Exception:  # never let cleanup of a dead run hide the run's own result
            return {}

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


def engine_options(
    options: EngineOptions | Path, trace: Path | None = None, **fields: Any
) -> EngineOptions:
    """``options`` itself, or options made of a scenario path, a trace and fields."""
    if isinstance(options, EngineOptions):
        if trace is not None or fields:
            raise TypeError("give EngineOptions alone, or a scenario path, a trace and fields")
        return options
    if trace is None:
        raise TypeError("a scenario path needs a trace path")
    return EngineOptions(Path(options), trace, **fields)


#: Bytes of a scenario's id or a program's name kept in a trace file's name: with the
#: stamp, the session id and the suffix it stays far below NAME_MAX (255).
NAME_PART_MAX = 80


def trace_name_part(name: str) -> str:
    """``name`` as it may go in a file name: a program's name is anything a file may be
    called (escape sequences, newlines, 255 bytes); each character that is not a letter,
    a digit or ``._+-`` becomes ``_``, and it is cut to NAME_PART_MAX bytes. Only the file
    is named so: the trace's header keeps the real name."""
    safe = "".join(c if c.isalnum() or c in "._+-" else "_" for c in name)
    return safe.encode()[:NAME_PART_MAX].decode(errors="ignore") or "run"


def default_trace_path(scenario_id: str, trace_dir: Path, sid: str) -> Path:
    """``DIR/STAMP-SCENARIO-SID.jsonl``: the session id makes the name unique, so runs
    started in the same second never share a file (the engine creates it with O_EXCL)."""
    from datetime import datetime

    from ipcviz.events.trace import private_trace_dir

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return private_trace_dir(trace_dir) / f"{stamp}-{trace_name_part(scenario_id)}-{sid}.jsonl"


def claim_record_path(record: Path, force: bool, remove: bool = False) -> Path:
    """``--record PATH``: refuse an existing file unless ``force``; with it and ``remove``,
    remove the old file (or the symlink itself, never its target) so the engine creates a
    new 0600 one. The viewer checks (``remove`` False); the engine removes, once the run's
    input has proved good (``EngineOptions.overwrite``): a typo in a scenario file with
    ``--force`` removed the old trace and recorded nothing in its place."""
    import stat

    from ipcviz.errors import IpcvizError
    from ipcviz.events.trace import replaceable

    try:
        st = record.lstat()
    except FileNotFoundError:
        return record
    except OSError as exc:
        raise IpcvizError(
            _("--record {record}: {strerror}").format(record=record, strerror=exc.strerror)
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise IpcvizError(
            _("--record {record} is a directory; give a file path").format(record=record)
        )
    if not replaceable(record, st):
        # a device (/dev/null), a FIFO, a socket, a link to one: --force replaced it
        raise IpcvizError(
            _("--record {record} is not a file: --force replaces only a file").format(record=record)
        )
    if not force:
        raise IpcvizError(
            _("--record {record} already exists: give --force to overwrite it").format(
                record=record
            )
        )
    if not remove:
        return record
    try:
        record.unlink()
    except OSError as exc:
        why = exc.strerror
        raise IpcvizError(
            _("--record {record}: cannot remove the old file: {why}").format(record=record, why=why)
        ) from None
    return record


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of a process, in clock ticks (None: gone or unreadable).
    Bytes: the stat's name (comm) may be any bytes, not UTF-8 (the engine's inherits the
    Python executable's name, cut at 15 bytes)."""
    try:
        with open(f"/proc/{pid}/stat", "rb", buffering=0) as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def _written(path: Path) -> bool:
    """The file is there and holds something."""
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def engine_died(status: int, detail: str, trace: Path | None) -> str:
    """What ipcviz says when its engine ended without its end (killed, crashed): the
    headless run and the screen say it in the same words. ``detail``: `` (why)`` or "";
    the trace is named only if the engine wrote some of it (``os._exit()`` in a scenario
    file may end it before it made the file; a crash while writing the header left it
    empty, and "trace so far" named a file of 0 bytes)."""
    if trace is not None and _written(trace):
        return _(
            "the engine stopped unexpectedly (status {rc}){detail}; trace so far: {path}"
        ).format(rc=status, detail=detail, path=safe_text(str(trace), 300))
    said = _("the engine stopped unexpectedly (status {rc}){detail}; it wrote no trace")
    return said.format(rc=status, detail=detail)

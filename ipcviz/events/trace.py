"""Reading and writing trace files: JSON Lines, header first (docs/trace-format.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ipcviz.errors import TraceError
from ipcviz.events import schema
from ipcviz.events.codec import encode_event


class TraceWriter:
    """Appends events to a trace file; a crash leaves at worst one partial last line."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.fd = create_new(path)
        self.error: OSError | None = None
        self.size = 0  # bytes of whole lines written: where a failed write is cut back to
        self.write_lines([encode_event(header)])

    def write_lines(self, lines: list[str]) -> None:
        """Write whole lines; on a full disk, keep what is written valid and stop recording."""
        if lines:
            self.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        """Write whole lines, already encoded (each ending in a newline)."""
        if self.error is not None or not data:
            return
        try:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except OSError as exc:  # ENOSPC, EFBIG: keep the whole lines that made it
            self.error = exc
            written = len(data) - len(view)
            keep = self.size + data.rfind(b"\n", 0, written) + 1
            try:  # (the fd is write-only: the cut is computed from what we wrote)
                os.ftruncate(self.fd, keep)
            except OSError:
                pass
            return
        self.size += len(data)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


#: A trace is always a new file: never an existing one (another run's trace, or a file the
#: user did not mean to lose), never through a symlink, readable by its owner only.
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def create_new(path: Path) -> int:
    """Create ``path`` as a new 0600 file and return a write-only fd; TraceError if not."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or "not a directory"
        raise TraceError(f"cannot create the directory of {path}: {why}") from None
    try:
        return os.open(path, NEW_FILE, 0o600)
    except FileExistsError:
        raise TraceError(
            f"{path} already exists: give another path, or --force to overwrite it"
        ) from None
    except OSError as exc:
        raise TraceError(f"cannot create the trace file {path}: {exc.strerror}") from None


@dataclass
class TraceReader:
    """A trace opened for reading: ``header`` and a lazy stream of ``events()``.

    Raises only :class:`TraceError` for bad input. A truncated last line (the recorder
    died mid-write) is tolerated and described in ``notice``.
    """

    path: Path
    header: dict[str, Any]
    notice: str | None = None
    _first_offset: int = field(default=0, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> TraceReader:
        p = Path(path)
        try:
            with p.open("rb") as f:
                first = f.readline(1 << 20)
                offset = f.tell()
        except FileNotFoundError:
            raise TraceError(f"no such trace file: {p}") from None
        except IsADirectoryError:
            raise TraceError(f"{p} is a directory, not a trace file") from None
        except OSError as exc:
            raise TraceError(f"cannot read {p}: {exc.strerror}") from None
        header = _parse_header(p, first)
        return cls(p, header, None, offset)

    def events(self) -> Iterator[dict[str, Any]]:
        """Yield events in order. Sets ``notice`` if the last line was cut off."""
        for _, event in self.scan():
            yield event

    def scan(self, offset: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(byte offset of its line, event)`` from ``offset`` (default: the first event).

        An index keeps the offsets and later comes back to any event with ``scan(offset)``
        instead of holding every event in memory (replay of large traces).
        """
        start = self._first_offset if offset is None else offset
        try:
            with self.path.open("rb") as f:
                f.seek(start)
                yield from self._iter_file(f, start, 1 if offset is None else None)
        except OSError as exc:
            raise TraceError(f"cannot read {self.path}: {exc.strerror}") from None

    def _iter_file(
        self, f: IO[bytes], pos: int, lineno: int | None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        for raw in f:
            at = pos
            pos += len(raw)
            if lineno is not None:
                lineno += 1
            where = f"line {lineno}" if lineno is not None else f"byte {at}"
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                if not raw.endswith(b"\n") and not f.read(1):
                    self.notice = (
                        f"trace ends with a cut-off line ({where}): "
                        "replayed up to the last whole event"
                    )
                    return
                raise TraceError(f"{self.path}: {where} is not a JSON event") from None
            except RecursionError:
                raise TraceError(f"{self.path}: {where} is nested too deeply") from None
            if not _is_event(event):
                raise TraceError(f"{self.path}: {where} is not an ipcviz event")
            yield at, event


def _is_event(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and isinstance(event.get("kind"), str)
        and isinstance(event.get("seq"), int)
        and isinstance(event.get("t"), int)
    )


def _parse_header(path: Path, first: bytes) -> dict[str, Any]:
    if not first:
        raise TraceError(f"{path} is empty, not an ipcviz trace")
    try:
        header = json.loads(first)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TraceError(f"{path} is not an ipcviz trace (line 1 is not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != schema.FORMAT:
        raise TraceError(f'{path} is not an ipcviz trace (no \'"format": "ipcviz-trace"\')')
    version = header.get("version")
    if not isinstance(version, int):
        raise TraceError(f"{path}: trace header has no integer version")
    if version > schema.VERSION:
        raise TraceError(
            f"{path} is trace format version {version}; this ipcviz reads up to "
            f"{schema.VERSION}: upgrade ipcviz"
        )
    if not isinstance(header.get("scenario"), dict):
        raise TraceError(f"{path}: trace header names no scenario")
    return header


def default_trace_dir() -> Path:
    """Per-user XDG data directory for recorded runs.

    A relative or empty ``XDG_DATA_HOME`` is ignored (the XDG spec says so), and so is an
    empty or relative ``HOME``: then the home directory comes from the password database, so
    a run never records into whatever directory it was started in (``HOME=''`` in ``/``
    would write ``/.local``).
    """
    data = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(data):
        return Path(data) / "ipcviz" / "traces"
    home = os.environ.get("HOME", "")
    if not os.path.isabs(home):
        import pwd

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            home = ""
    if not os.path.isabs(home):
        raise TraceError(
            "no home directory to record into (HOME is unset and uid "
            f"{os.getuid()} has none): set XDG_DATA_HOME or give --record PATH"
        )
    return Path(home) / ".local" / "share" / "ipcviz" / "traces"


def private_trace_dir(path: Path) -> Path:
    """Make the traces directory (0700: traces hold what processes sent each other)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise TraceError(f"cannot create the traces directory {path}: {exc.strerror}") from None
    return path

"""Reading and writing trace files: JSON Lines, header first (docs/trace-format.md)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ipcviz.bytefmt import safe_text
from ipcviz.errors import TraceError
from ipcviz.events import schema
from ipcviz.events.codec import decode_line, encode_event, line_bytes
from ipcviz.events.validate import Validator, check_header
from ipcviz.i18n import _

#: Longest line a reader accepts, newline excluded (docs/trace-format.md). The longest real
#: line is far shorter (a 256 KiB payload is ~350 KB of base64); a longer one is refused
#: after reading at most this much, so a hostile 1 GiB line costs no more memory than this.
MAX_LINE = 16 * 1024 * 1024


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
            self.write_bytes(line_bytes("\n".join(lines) + "\n"))

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


def replaceable(path: Path, st: os.stat_result) -> bool:
    """May ``--force`` put a new file where ``path`` (``st``: its lstat) is? A file, yes;
    a symlink, itself (never written through), if it leads to a file or to nothing. Not a
    device, FIFO or socket, nor a symlink to one: ``-o /dev/stdout --force`` as root
    replaced the machine's /dev/stdout (a link to /proc/self/fd/1) with a file."""
    if stat.S_ISREG(st.st_mode):
        return True
    if not stat.S_ISLNK(st.st_mode):
        return False
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return True  # a dangling link: nothing it leads to can be lost
    except OSError:
        return False


def make_parents(path: Path) -> None:
    """Create the directories missing above ``path``, each 0700: what is written there
    holds what processes sent each other (``mkdir -p`` makes them as the umask says,
    0755 as a rule). One that exists is left as it is."""
    for directory in reversed(path.parents):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass


def create_new(path: Path) -> int:
    """Create ``path`` as a new 0600 file and return a write-only fd; TraceError if not."""
    try:
        make_parents(path)
    except OSError as exc:
        why = exc.strerror or "not a directory"
        raise TraceError(
            _("cannot create the directory of {path}: {why}").format(path=path, why=why)
        ) from None
    try:
        return os.open(path, NEW_FILE, 0o600)
    except FileExistsError:
        raise TraceError(
            _("{path} already exists: give another path, or --force to overwrite it").format(
                path=path
            )
        ) from None
    except OSError as exc:
        raise TraceError(
            _("cannot create the trace file {path}: {strerror}").format(
                path=path, strerror=exc.strerror
            )
        ) from None


@dataclass
class TraceReader:
    """A trace opened for reading: ``header`` and a lazy stream of ``events()``.

    Raises only :class:`TraceError` for bad input: not a regular file, a line longer than
    :data:`MAX_LINE`, not JSON, a field of the wrong type (ipcviz.events.validate). A
    truncated last line (the recorder died mid-write) is tolerated and described in
    ``notice``.
    """

    path: Path
    header: dict[str, Any]
    notice: str | None = None
    _first_offset: int = field(default=0, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> TraceReader:
        p = Path(path)
        with _open_regular(p) as f:
            first = _read_line(f, p, "line 1")
            offset = f.tell()
        header = _parse_header(p, first)
        return cls(p, header, None, offset)

    def events(self) -> Iterator[dict[str, Any]]:
        """Yield events in order. Sets ``notice`` if the last line was cut off."""
        for _at, event in self.scan():
            yield event

    def scan(self, offset: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(byte offset of its line, event)`` from ``offset`` (default: the first event).

        An index keeps the offsets and later comes back to any event with ``scan(offset)``
        instead of holding every event in memory (replay of large traces).
        """
        start = self._first_offset if offset is None else offset
        try:
            with _open_regular(self.path) as f:
                f.seek(start)
                yield from self._iter_file(f, start, 1 if offset is None else None)
        except OSError as exc:
            raise TraceError(
                _("cannot read {path}: {strerror}").format(
                    path=_shown(self.path), strerror=exc.strerror
                )
            ) from None

    def _iter_file(
        self, f: IO[bytes], pos: int, lineno: int | None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        # A scan from an offset (an index going back to a checkpoint) cannot know what was
        # declared before it: it checks types only. The index reads the whole file from the
        # start first, and that scan checked every reference in order.
        validator = Validator(references=lineno is not None)
        check = validator.check
        line_at, byte_at = _("line {n}"), _("byte {n}")  # worded once, not per line

        def where() -> str:  # worded only when something is said about the line
            return line_at.format(n=lineno) if lineno is not None else byte_at.format(n=at)

        while True:
            at = pos
            if lineno is not None:
                lineno += 1
            raw = _read_line(f, self.path, where)
            if not raw:
                return
            pos += len(raw)
            if raw.isspace():  # a blank line (``strip`` would copy every line to say so)
                continue
            try:
                event = decode_line(raw)
            except (ValueError, UnicodeDecodeError):
                if not raw.endswith(b"\n") and not f.read(1):
                    self.notice = _(
                        "trace ends with a cut-off line ({where}): replayed up to the last "
                        "whole event"
                    ).format(where=where())
                    return
                raise TraceError(
                    _("{path}: {where} is not a JSON event").format(
                        path=_shown(self.path), where=where()
                    )
                ) from None
            except RecursionError:
                raise TraceError(
                    _("{path}: {where} is nested too deeply").format(
                        path=_shown(self.path), where=where()
                    )
                ) from None
            problem = check(event)
            if problem is not None:
                kind = event.get("kind") if isinstance(event, dict) else None
                what = f" ({safe_text(kind, 40)})" if isinstance(kind, str) else ""
                raise TraceError(
                    _("{path}: {where}{what}: {problem}").format(
                        path=_shown(self.path),
                        where=where(),
                        what=what,
                        problem=safe_text(problem, 200),
                    )
                )
            yield at, event


def _open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file; TraceError otherwise.

    Opened with O_NONBLOCK so a FIFO or a device cannot hang the open, and checked with
    fstat on the descriptor (not the name), so nothing can be swapped in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TraceError(_("no such trace file: {path}").format(path=_shown(path))) from None
    except OSError as exc:
        raise TraceError(
            _("cannot read {path}: {strerror}").format(path=_shown(path), strerror=exc.strerror)
        ) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise TraceError(_("{path} is a directory, not a trace file").format(path=_shown(path)))
        if not stat.S_ISREG(mode):
            raise TraceError(
                _("{path} is not a regular file: a trace is a file").format(path=_shown(path))
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_line(f: IO[bytes], path: Path, where: str | Callable[[], str]) -> bytes:
    """One line of at most MAX_LINE bytes (plus its newline); TraceError if longer.
    ``where``: the line's place, or what words it when it must be said."""
    try:
        raw = f.readline(MAX_LINE + 1)
    except OSError as exc:
        raise TraceError(
            _("cannot read {path}: {strerror}").format(path=_shown(path), strerror=exc.strerror)
        ) from None
    if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
        raise TraceError(
            _(
                "{path}: {where} is longer than {mib} MiB (the longest line a trace may have): "
                "not a trace ipcviz wrote"
            ).format(
                path=_shown(path),
                where=where if isinstance(where, str) else where(),
                mib=MAX_LINE // (1024 * 1024),
            )
        )
    return raw


def _shown(path: Path) -> str:
    """A file name in a message: a hostile name cannot act on the terminal either."""
    return safe_text(str(path), 300)


def _parse_header(p: Path, first: bytes) -> dict[str, Any]:
    path = _shown(p)
    if not first:
        raise TraceError(_("{path} is empty, not an ipcviz trace").format(path=path))
    try:
        header = decode_line(first)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TraceError(
            _("{path} is not an ipcviz trace (line 1 is not JSON)").format(path=path)
        ) from None
    if not isinstance(header, dict) or header.get("format") != schema.FORMAT:
        raise TraceError(
            _('{path} is not an ipcviz trace (no \'"format": "ipcviz-trace"\')').format(path=path)
        )
    version = header.get("version")
    if not isinstance(version, int):
        raise TraceError(_("{path}: trace header has no integer version").format(path=path))
    if version > schema.VERSION:
        raise TraceError(
            _(
                "{path} is trace format version {version}; this ipcviz reads up to {latest}: "
                "upgrade ipcviz"
            ).format(path=path, version=version, latest=schema.VERSION)
        )
    if not isinstance(header.get("scenario"), dict):
        raise TraceError(_("{path}: trace header names no scenario").format(path=path))
    problem = check_header(header)
    if problem is not None:
        raise TraceError(
            _("{path}: trace header: {problem}").format(path=path, problem=safe_text(problem, 200))
        )
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
            _(
                "no home directory to record into (HOME is unset and uid {uid} has none): "
                "set XDG_DATA_HOME or give --record PATH"
            ).format(uid=os.getuid())
        )
    return Path(home) / ".local" / "share" / "ipcviz" / "traces"


def private_trace_dir(path: Path) -> Path:
    """Make the traces directory (0700: traces hold what processes sent each other).

    One that another user owns (``XDG_DATA_HOME`` in a shared place where someone made
    ``ipcviz/traces`` first) is refused: its owner could replace a recorded run with one
    that never happened, and ``replay`` of the printed path would show it."""
    try:
        make_parents(path)
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.stat()  # a link to a directory of the user's own is theirs to make
        if st.st_uid != os.getuid():
            raise TraceError(
                _(
                    "the traces directory {path} belongs to another user (uid {uid}); "
                    "set XDG_DATA_HOME to a directory of yours"
                ).format(path=safe_text(str(path), 300), uid=st.st_uid)
            )
        if st.st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError as exc:
        raise TraceError(
            _("cannot create the traces directory {path}: {strerror}").format(
                path=path, strerror=exc.strerror
            )
        ) from None
    return path

"""Where an export writes: new files only, 0600, never through a symlink, never over a file
the user did not ask to lose.

``-o PATH`` that exists is refused unless ``--force``. A file export (perfetto, html) is
written to a private temporary file beside PATH and published at the end: linked in when
PATH must be new (the kernel refuses if it appeared meanwhile), renamed over PATH with
``--force`` (a symlink is replaced itself, its target is never written).

A directory export (svg) writes a manifest, :data:`MANIFEST`, naming each file it wrote and
its SHA-256. With ``--force`` into a directory of an earlier export, only the files that the
manifest names *and* that still hold the bytes ipcviz wrote are removed: anything else (the
user's own notes, a picture they edited, an export made before manifests) is kept and
listed, so the user sees why the directory holds more than this export.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ipcviz import bytefmt
from ipcviz.errors import IpcvizError
from ipcviz.events.trace import make_parents, replaceable
from ipcviz.i18n import _

#: The record of what an svg export wrote into its directory (one ``SHA256  NAME`` a line).
MANIFEST = ".ipcviz-export"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
#: Reading a file we may have written: never through a symlink, never blocking on a FIFO.
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def _shown(path: Path) -> str:
    return bytefmt.safe_text(str(path), 300)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IpcvizError(
            _("-o {path}: {strerror}").format(path=_shown(path), strerror=exc.strerror)
        ) from None


def refuse_existing(path: Path, force: bool, directory: bool = False) -> None:
    """One line (exit 2) when ``path`` exists and ``force`` was not given.

    An empty directory for a directory export is not refused: nothing in it can be lost.
    """
    st = _lstat(path)
    if st is None or force:
        return
    if directory and stat.S_ISDIR(st.st_mode) and not any(path.iterdir()):
        return
    raise IpcvizError(
        _("-o {path} already exists: give --force to replace it").format(path=_shown(path))
    )


@contextlib.contextmanager
def new_file(output: Path, force: bool) -> Iterator[IO[str]]:
    """A text file that becomes ``output`` when the block ends without an exception."""
    st = _lstat(output)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IpcvizError(
            _("-o {output} is a directory; give a file path").format(output=_shown(output))
        )
    if st is not None and not replaceable(output, st):
        # a device (/dev/null), a FIFO, a socket, a link to one: --force replaced it
        raise IpcvizError(
            _("-o {output} is not a file: --force replaces only a file").format(
                output=_shown(output)
            )
        )
    refuse_existing(output, force)
    try:  # mkstemp: O_EXCL, mode 0600, a name nobody else chose
        fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as exc:
        raise IpcvizError(
            _("cannot write {output}: {strerror}").format(
                output=_shown(output), strerror=exc.strerror
            )
        ) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            yield out
        if force:
            os.replace(tmp, output)  # a symlink at output is replaced, never followed
        else:
            try:
                os.link(tmp, output, follow_symlinks=False)
            except FileExistsError:
                raise IpcvizError(
                    _("-o {output} already exists: give --force to replace it").format(
                        output=_shown(output)
                    )
                ) from None
            tmp.unlink()
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise IpcvizError(
            _("cannot write {output}: {strerror}").format(
                output=_shown(output), strerror=exc.strerror
            )
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass
class ExportDir:
    """An export directory opened without following a symlink; files go in by name only."""

    path: Path
    force: bool
    fd: int = -1
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    created: bool = False
    _digests: dict[str, str] = field(default_factory=dict)

    def open(self) -> ExportDir:
        """Create or open the directory; with ``force``, remove the files of an earlier export."""
        st = _lstat(self.path)
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise IpcvizError(
                _("-o {path} is a symlink; give the directory itself").format(
                    path=_shown(self.path)
                )
            )
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise IpcvizError(
                _("-o {path}: exists and is not a directory (svg writes one per step)").format(
                    path=_shown(self.path)
                )
            )
        refuse_existing(self.path, self.force, directory=True)
        try:
            if st is None:
                make_parents(self.path)
                self.path.mkdir(mode=0o700)
                self.created = True
            self.fd = os.open(self.path, _DIR_FLAGS)
        except OSError as exc:
            raise IpcvizError(
                _("cannot write {path}: {strerror}").format(
                    path=_shown(self.path), strerror=exc.strerror
                )
            ) from None
        self._remove_earlier()
        return self

    def _names(self) -> list[str]:
        return sorted(n for n in os.listdir(self.fd) if n != MANIFEST)

    def _remove_earlier(self) -> None:
        """Remove what the manifest proves ipcviz wrote (unchanged since); keep the rest."""
        for digest, name in self._manifest():
            try:
                if self._digest(name) == digest:
                    os.unlink(name, dir_fd=self.fd)
                    self.removed.append(name)
            except OSError:
                continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(MANIFEST, dir_fd=self.fd)
        self.kept = self._names()

    def _manifest(self) -> list[tuple[str, str]]:
        try:
            fd = os.open(MANIFEST, _READ, dir_fd=self.fd)
        except OSError:
            return []
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return []  # a FIFO or a device in its place: not ours, never read
            text = f.read(1 << 20).decode("utf-8", "replace")
        pairs = []
        for line in text.splitlines():
            digest, _, name = line.partition("  ")
            if len(digest) == 64 and name and "/" not in name and name not in (".", ".."):
                pairs.append((digest, name))
        return pairs

    def _digest(self, name: str) -> str:
        fd = os.open(name, _READ, dir_fd=self.fd)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise OSError("not a regular file")
            return hashlib.file_digest(f, "sha256").hexdigest()

    def write(self, name: str, text: str) -> None:
        """Create ``name`` in the directory: new, 0600, never through a symlink."""
        data = text.encode("utf-8")
        try:
            fd = os.open(name, _NEW, 0o600, dir_fd=self.fd)
        except FileExistsError:
            raise IpcvizError(
                _(
                    "{name} exists and ipcviz did not write it: move it away or choose another -o"
                ).format(name=_shown(self.path / name))
            ) from None
        except OSError as exc:
            raise IpcvizError(
                _("cannot write {path}: {strerror}").format(
                    path=_shown(self.path), strerror=exc.strerror
                )
            ) from None
        self.written.append(name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise IpcvizError(
                _("cannot write {path}: {strerror}").format(
                    path=_shown(self.path), strerror=exc.strerror
                )
            ) from None
        self._digests[name] = hashlib.sha256(data).hexdigest()

    def finish(self) -> None:
        """Write the manifest of this export (what a later ``--force`` may remove)."""
        lines = "".join(f"{self._digests[n]}  {n}\n" for n in self.written)
        self.write(MANIFEST, lines)
        self.written.pop()
        os.close(self.fd)
        self.fd = -1

    def abandon(self) -> None:
        """A failed export: remove the files this run wrote, nothing else."""
        for name in self.written:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)
        self.written.clear()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.created:  # the directory this run made, if still empty
            with contextlib.suppress(OSError):
                self.path.rmdir()

    def kept_line(self) -> str | None:
        """Tells the user the directory holds files that are not this export's."""
        if not self.kept:
            return None
        names = ", ".join(self.kept[:5]) + (" …" if len(self.kept) > 5 else "")
        return (
            f"kept {len(self.kept)} file(s) in {_shown(self.path)} that ipcviz cannot prove "
            f"it wrote (not removed): {bytefmt.safe_text(names, 300)}"
        )

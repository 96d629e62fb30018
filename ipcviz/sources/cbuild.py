"""C programs compiled on first use: the lecture's C examples (``scenarios/c/``) and a
user's ``FILE.c``, built with the system C compiler into a per-user cache.

The cache is ``$XDG_CACHE_HOME/ipcviz/c`` (``~/.cache/ipcviz/c``), a 0700 directory that
must be ours and not a symlink. A binary is named after the source's name and a hash of
its text and the compiler (``HASH/NAME``: the program keeps its own name on screen), so an
edited source is rebuilt and an unchanged one is not. It is built under a temporary name
created exclusively in that directory and linked to its final name (``link`` fails if the
name exists: never through another file or a symlink).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

from ipcviz.errors import IpcvizError
from ipcviz.i18n import _

#: ``ipcviz run c/NAME``: a built-in C example (scenarios/c/NAME.c, dashes or underscores).
PREFIX = "c/"
COMPILERS = ("cc", "gcc", "clang")
CFLAGS = ("-O2", "-Wall")
#: Linked after the source: POSIX queues and semaphores live in librt on glibc < 2.34
#: (an empty stub after), threads in libpthread.
LIBS = ("-lrt", "-pthread")


def is_c(spec: str) -> bool:
    return spec.startswith(PREFIX) or spec.endswith(".c")


def examples_dir() -> Path:
    from ipcviz.scenario.loader import builtin_dir

    return builtin_dir() / "c"


def examples() -> list[str]:
    """Ids of the built-in C examples (``c/pipe-parent-child``, …)."""
    return sorted(PREFIX + p.stem.replace("_", "-") for p in examples_dir().glob("*.c"))


def source_of(spec: str) -> Path:
    if spec.startswith(PREFIX) and not spec.endswith(".c"):
        path = examples_dir() / (spec[len(PREFIX) :].replace("-", "_") + ".c")
        if not path.is_file():
            known = ", ".join(examples())
            raise IpcvizError(
                _("unknown C example {spec!r} (built-in: {known}; or give FILE.c)").format(
                    spec=spec, known=known
                )
            )
        return path
    path = Path(spec).expanduser()
    if not path.is_file():
        raise IpcvizError(_("no such C file: {spec}").format(spec=spec))
    return path.resolve()


def compiler() -> str:
    for name in COMPILERS:
        found = shutil.which(name)
        if found:
            return found
    raise IpcvizError(
        _(
            "no C compiler found (cc, gcc or clang on PATH): install one (apt-get install gcc) "
            "to run the C examples"
        )
    )


def cache_dir() -> Path:
    """The per-user cache (0700, ours, not a symlink), made on first use."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        import pwd

        home = os.environ.get("HOME", "")
        if not os.path.isabs(home):
            home = pwd.getpwuid(os.getuid()).pw_dir
        base = os.path.join(home, ".cache")
    path = Path(base) / "ipcviz" / "c"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        st = path.lstat()
    except OSError as exc:
        raise IpcvizError(
            _("cannot make the C build cache {path}: {strerror}").format(
                path=path, strerror=exc.strerror
            )
        ) from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise IpcvizError(
            _("the C build cache {path} is not a directory of yours: refusing it").format(path=path)
        )
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def build(spec: str) -> Path:
    """The binary of a C example or FILE.c, compiled now unless the cache has it."""
    source = source_of(spec)
    cc = compiler()
    text = source.read_bytes()
    flags = " ".join((*CFLAGS, *LIBS)).encode()
    digest = hashlib.sha256(text + b"\0" + cc.encode() + b"\0" + flags)
    cache = cache_dir() / digest.hexdigest()[:16]
    try:
        cache.mkdir(mode=0o700)
    except FileExistsError:
        pass
    st = cache.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise IpcvizError(
            _("the C build cache {cache} is not a directory of yours: refusing it").format(
                cache=cache
            )
        )
    target = cache / source.stem
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mode & 0o100:
            return target
        raise IpcvizError(
            _("{target} is not a program of yours: remove it and try again").format(target=target)
        )
    # a fresh private name (a killed build's leftover never blocks the next one)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache)
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            done = _compile([cc, *CFLAGS, "-o", str(tmp), str(source), *LIBS])
        except subprocess.TimeoutExpired:
            raise IpcvizError(
                _("{name} did not compile within 120 s").format(name=source.name)
            ) from None
        if done.returncode != 0:
            said = [ln for ln in done.stderr.splitlines() if "error" in ln] or [""]
            raise IpcvizError(f"{source.name} does not compile: {said[0].strip()}".strip())
        os.chmod(tmp, 0o700)
        try:
            os.link(tmp, target)
        except FileExistsError:  # built meanwhile by another run: use that one
            pass
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return target


def _compile(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the compiler in a process group of its own. Ctrl-C, SIGTERM or SIGHUP while it
    runs (KeyboardInterrupt, as a stop) kills that whole group, its cc1 and as too, and
    the caller removes the half-written output: a SIGTERM used to end ipcviz there at
    once, the compiler ran on and left its output in the cache for ever."""

    proc: subprocess.Popen[str] | None = None
    stopped = False

    def stop(_signum: int, _frame: object) -> None:
        # Raised inside Popen (the compiler forked, ``proc`` not yet set), the stop would
        # leave the compiler running, never killed: said once ``proc`` is known instead.
        nonlocal stopped
        stopped = True
        if proc is not None:
            raise KeyboardInterrupt

    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    try:  # before the compiler starts: a signal as soon as it runs is a stop too
        old = {sig: signal.signal(sig, stop) for sig in sigs}
    except ValueError:  # not the main thread: the caller's handlers stay
        old = {}
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        if stopped:
            raise KeyboardInterrupt
        out, err = proc.communicate(timeout=120)
    except BaseException:
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        raise
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)

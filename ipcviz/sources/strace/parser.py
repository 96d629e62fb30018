"""strace's text output, line by line (``strace -f -ttt -T -yy -xx``), as plain tuples.

Pure: no process, no file; unit-tested on captured text. ``-xx`` prints every string as
``\\xNN`` escapes (the file names behind descriptors too, with ``-yy``), so a quote, a
parenthesis or ``) = `` inside a payload can never be mistaken for strace's own syntax,
and a payload is only ever decoded to bytes, never interpreted.

A line is one of (``kind``):

* ``CALL``: ``PID SEC.USEC name(args) = ret <dur>`` — a call seen whole;
* ``UNFINISHED``: ``PID SEC.USEC name(args <unfinished ...>`` — it entered and another
  process printed before it returned (it may be blocked);
* ``RESUMED``: ``PID SEC.USEC <... name resumed>args) = ret <dur>`` — its return;
* ``EXITED`` / ``KILLED``: ``+++ exited with N +++``, ``+++ killed by SIGX +++``;
* ``SIGNAL``: ``--- SIGCHLD {...} ---`` (kept for completeness, ignored by the mapper).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

CALL: Final = 0
UNFINISHED: Final = 1
RESUMED: Final = 2
EXITED: Final = 3
KILLED: Final = 4
SIGNAL: Final = 5

_UNFINISHED = " <unfinished ...>"
_HEAD = re.compile(r"(\d+) +(\d+)\.(\d+) ")
_NAME = re.compile(r"(\w+)\(")
_PADDED = re.compile(r"\)\s+=\s?")
_ERR = re.compile(r"-1 (E\w+)")
_KILLED = re.compile(r"\+\+\+ killed by (SIG\w+)")
_EXITED = re.compile(r"\+\+\+ exited with (-?\d+)")


class Line(NamedTuple):
    """One parsed line. Times are microseconds (``-ttt``: the Unix epoch; ``-T``: length)."""

    pid: int
    t: int  # when strace saw it: entry for CALL/UNFINISHED, return for RESUMED
    kind: int
    name: str  # the system call; for EXITED the status, for KILLED/SIGNAL the signal
    args: str  # everything between the parentheses (or what the part printed of it)
    ret: int | None  # the return value's number (None: ``?`` or not a number)
    err: str  # ``EPIPE`` and so on, when the call failed ('' when it did not)
    dur: int  # -T: microseconds in the call (0 when not printed)


def _usec(frac: str) -> int:
    """The fraction of ``SEC.FRAC`` in microseconds, whatever precision strace printed."""
    return int((frac + "000000")[:6])


#: The two shapes of nearly every line, in one match: ``PID SEC.USEC name(`` (a call, whole
#: or unfinished) and ``PID SEC.USEC <... name resumed>`` (a return).
_LINE = re.compile(r"(\d+) +(\d+)\.(\d+) (?:(\w+)\(|<\.\.\. (\w+) resumed>)")
_CUT = len(_UNFINISHED)
#: ``Line`` without NamedTuple's generated ``__new__`` (a Python frame per line): the same
#: tuple, made by the C constructor.
_line = tuple.__new__


def parse_line(line: str) -> Line | None:
    """One line of strace output (without its newline); None for anything else.

    The hot path of ``ipcviz run --``: one regular expression per line, then str methods
    (see docs/performance.md, strace parse rate)."""
    m = _LINE.match(line)
    if m is None:
        return _other(line)
    pid, sec, frac, name, resumed = m.groups()
    t = int(sec + frac) if len(frac) == 6 else int(sec) * 1_000_000 + _usec(frac)
    body = line[m.end() :]
    if name is not None:
        if body.endswith(_UNFINISHED):
            return _line(Line, (int(pid), t, UNFINISHED, name, body[:-_CUT], None, "", 0))
        kind = CALL
    else:
        if body.startswith(_UNFINISHED):  # killed in the call: ``<unfinished ...>) = ?``
            body = body[_CUT:]
        kind, name = RESUMED, resumed
    # the usual return, ``args) = 1 <0.000020>``, read here; any other by ``_returned``
    cut = body.rfind(") = ")
    if cut >= 0:
        ret, sep, dur = body[cut + 4 :].partition(" <")
        if (
            sep
            and dur[-1:] == ">"
            and ret.isdecimal()
            and (ret[0] != "0" or len(ret) == 1)
            and len(ret) < 19  # (longer: maybe a negative printed unsigned, ``_returned``)
        ):
            sec, _, frac = dur[:-1].partition(".")
            if len(frac) == 6 and sec.isdigit() and frac.isdigit():
                dur_us = int(sec + frac)
                return _line(Line, (int(pid), t, kind, name, body[:cut], int(ret), "", dur_us))
    return _returned(int(pid), t, kind, name, body)


def _other(line: str) -> Line | None:
    """The rare lines: ``+++ exited …``, ``+++ killed …``, ``--- SIGNAL …``."""
    m = _HEAD.match(line)
    if m is None:
        return None
    pid = int(m.group(1))
    t = int(m.group(2)) * 1_000_000 + _usec(m.group(3))
    rest = line[m.end() :]
    first = rest[:1]
    if first == "+":
        k = _EXITED.match(rest)
        if k is not None:
            return Line(pid, t, EXITED, k.group(1), "", int(k.group(1)), "", 0)
        k = _KILLED.match(rest)
        if k is not None:
            return Line(pid, t, KILLED, k.group(1), "", None, "", 0)
        if rest.startswith("+++ superseded by execve"):  # a thread's execve: its tid is gone
            return Line(pid, t, SIGNAL, "superseded", "", None, "", 0)
        return None
    if first == "-":
        sig = rest[4:].split(" ", 1)[0] if rest.startswith("--- ") else ""
        return Line(pid, t, SIGNAL, sig, "", None, "", 0)
    return None


def _returned(pid: int, t: int, kind: int, name: str, body: str) -> Line | None:
    """``args) = ret [ERR (why)] [<dur>]`` → the line with its return value."""
    cut = body.rfind(") = ")
    if cut >= 0:
        args, tail = body[:cut], body[cut + 4 :]
    else:  # ``exit_group(0)   = ?``: strace pads a call that never returns
        k = _PADDED.search(body)
        if k is None:
            return None
        args, tail = body[: k.start()], body[k.end() :]
    dur = 0
    if tail[-1:] == ">":  # `` <0.000015>`` (-T)
        cut = tail.rfind(" <")
        sec, _, frac = tail[cut + 2 : -1].partition(".")
        if cut >= 0 and sec.isdigit() and frac.isdigit():
            dur = int(sec + frac) if len(frac) == 6 else int(sec) * 1_000_000 + _usec(frac)
            tail = tail[:cut]
    ret: int | None = None
    err = ""
    if tail.isdecimal() and (tail[0] != "0" or len(tail) == 1):  # the usual ``= 1``
        ret = int(tail)
    else:
        token = tail.split(" ", 1)[0]
        if token == "-1":
            e = _ERR.match(tail)
            err = e.group(1) if e is not None else "E?"
            ret = -1
        elif token != "?":
            digits = token.split("<", 1)[0]  # -yy: ``= 4<pipe:[…]>`` names the new descriptor
            try:
                ret = int(digits, 0)
            except ValueError:
                ret = None
    if ret is not None and ret >= 1 << 63:
        # A return is a signed long: strace printed one unsigned (a process killed in a
        # msgrcv's return gave ``= 18446744073709551615``, which became a receive of a
        # message that size, and a trace ``verify`` refused). As the kernel meant it: failed.
        ret -= 1 << 64
    return _line(Line, (pid, t, kind, name, args, ret, err, dur))


def parse_entry(text: str) -> tuple[int, int, str, str] | None:
    """A line strace has begun but not ended (the call is in progress, maybe blocked):
    ``PID SEC.USEC name(args so far`` → (pid, t, name, args so far)."""
    m = _HEAD.match(text)
    if m is None:
        return None
    k = _NAME.match(text, m.end())
    if k is None:
        return None
    t = int(m.group(2)) * 1_000_000 + _usec(m.group(3))
    return int(m.group(1)), t, k.group(1), text[k.end() :]


# -- arguments ---------------------------------------------------------------------------

_HEXSTR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?')
_FD = re.compile(r"(-?\d+)<((?:\\x[0-9a-f]{2})*)>")
_INT = re.compile(r"\s*(-?(?:0x[0-9a-f]+|\d+))")
_MSG = re.compile(r'\{mtype=(-?\d+), mtext="((?:\\x[0-9a-f]{2})*)"(\.\.\.)?\}')
_MSG_HEAD = re.compile(r'\{mtype=(-?\d+), mtext="')
_SEMBUF = re.compile(r"\{sem_num=(\d+), sem_op=(-?\d+), sem_flg=([\w|]+)\}")


def name_text(raw: bytes) -> str:
    """A name from the trace (a path, a queue's name, an argument) as ``str``, losslessly:
    bytes that are not UTF-8 become lone surrogates (``surrogateescape``, as ``os.fsdecode``
    does), so ``/q\\xff`` and ``/q\\xfe`` stay two names (``"replace"`` made both ``/q`` U+FFFD:
    one object, and a correct program accused), ``os`` calls reach the very file again, and
    ``bytefmt`` shows each such byte as ``\\xNN``."""
    return raw.decode("utf-8", "surrogateescape")


def unhex(text: str) -> bytes:
    """``\\x68\\x69`` → ``b"hi"`` (``-xx`` output: nothing but escapes)."""
    if len(text) > 64 and text.isascii():  # str.replace is slow with a match every 4 chars
        return bytes.fromhex(text.encode().translate(None, b"\\x").decode())
    return bytes.fromhex(text.replace("\\x", ""))


_SHORT: dict[str, bytes] = {}


def string_arg(args: str, start: int = 0) -> tuple[bytes, bool] | None:
    """The first quoted string at or after ``start``: (bytes, cut by ``-s``)."""
    q = args.find('"', start)
    e = args.find('"', q + 1) if q >= 0 else -1
    if e - q > 64:  # a long string: str and bytes methods
        got = _escapes(args[q + 1 : e])
        if got is not None:
            return got, args.startswith("...", e + 1)
    elif e >= 0:  # a short one: the pattern, anchored at its quote
        m = _HEXSTR.match(args, q)
        if m is not None:
            inner = m.group(1)
            data = _SHORT.get(inner)  # a busy program moves the same few bytes again
            if data is None:
                data = unhex(inner)
                if len(_SHORT) > 4096:
                    _SHORT.clear()
                _SHORT[inner] = data
            return data, m.group(2) is not None
    m = _HEXSTR.search(args, start)  # not strace's own spelling: what the pattern finds
    if m is None:
        return None
    return unhex(m.group(1)), m.group(2) is not None


def string_list(args: str, start: int = 0) -> list[bytes]:
    """The strings of the first ``[...]`` at or after ``start`` (execve's argv)."""
    q = args.find("[", start)
    e = args.find("]", q + 1) if q >= 0 else -1
    if e < 0:
        return []
    return [unhex(m.group(1)) for m in _HEXSTR.finditer(args, q, e)]


def _escapes(inner: str) -> bytes | None:
    """``\\x68\\x69`` → ``b"hi"`` when ``inner`` is nothing but ``-xx`` escapes (lowercase
    hex), else None: what ``_HEXSTR`` accepts, checked with bytes methods. The pattern costs
    ~200 ns a byte (a 64 KiB write: 13 ms), these a few."""
    k, rest = divmod(len(inner), 4)
    if rest or not inner.isascii():
        return None
    raw = inner.encode()
    if raw[1::4] != b"x" * k or raw[::4] != b"\\" * k:
        return None
    digits = raw.translate(None, b"\\x").decode()
    if len(digits) != 2 * k:
        return None
    try:
        data = bytes.fromhex(digits)
    except ValueError:
        return None
    return data if data.hex() == digits else None  # lowercase pairs, no whitespace


def fds(args: str) -> list[tuple[int, str]]:
    """Every ``N<path>`` descriptor in ``args`` (``-yy``): (fd, what it is, e.g. ``pipe:[7]``)."""
    return [(int(m.group(1)), name_text(unhex(m.group(2)))) for m in _FD.finditer(args)]


_FD_CACHE: dict[str, tuple[int, str]] = {}


def first_fd(args: str) -> tuple[int, str] | None:
    """The descriptor that begins ``args`` (``3<pipe:[7]>``), decoded once per spelling:
    every read and write of a busy program names the same few."""
    cut = args.find(">")
    head = args[: cut + 1]
    found = _FD_CACHE.get(head)
    if found is not None:
        return found
    m = _FD.fullmatch(head)
    if m is None:
        return None
    found = int(m.group(1)), name_text(unhex(m.group(2)))
    if len(_FD_CACHE) > 4096:
        _FD_CACHE.clear()
    _FD_CACHE[head] = found
    return found


def last_int(args: str) -> int | None:
    """The last argument as a number (read's and write's count), without splitting all."""
    try:
        return int(args[args.rfind(",") + 1 :], 0)
    except ValueError:
        return None


def ints(args: str) -> list[int]:
    """The top-level numeric arguments (a string, struct or list counts as no number)."""
    out: list[int] = []
    for part in split_args(args):
        m = _INT.fullmatch(part)
        if m is not None:
            out.append(number(m.group(1)))
    return out


def number(text: str) -> int:
    """A number as strace prints it: ``42``, ``-1``, ``0x1f``, or octal ``0600`` (a mode
    alone, as in ``semget(KEY, 1, 0600)``; Python's ``int(text, 0)`` refuses that one)."""
    digits = text.lstrip("-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        return int(text, 8)
    return int(text, 0)


def split_args(args: str) -> list[str]:
    """``a, {b, c}, [d, e], "f"`` → the top-level arguments. Strings are hex (``-xx``), so
    no comma, bracket or quote inside one can confuse it; pieces are split at ``, `` and
    joined again while a bracket is open (str methods only: a 256 KiB string is one piece)."""
    parts: list[str] = []
    depth = 0
    for piece in args.split(", "):
        opened = piece.count("{") + piece.count("[") + piece.count("(")
        closed = piece.count("}") + piece.count("]") + piece.count(")")
        if depth > 0:
            parts[-1] += ", " + piece
        else:
            parts.append(piece)
        depth += opened - closed
    return [p.strip() for p in parts if p.strip()]


_IOV = re.compile(r'\{iov_base=(?:"((?:\\x[0-9a-f]{2})*)"(\.\.\.)?|[^,]*), iov_len=(\d+)\}')


def iovecs(args: str) -> tuple[bytes, int, bool]:
    """readv/writev's ``[{iov_base="...", iov_len=N}, ...]``: (the buffers' bytes one after
    the other, the sum of their lengths, whether any was cut or the list was).

    A buffer cut by ``-s`` (``"..."...``) ends what is known: the bytes after it are not
    those of the next buffer; a list strace cut (``, ...]``) hides buffers and lengths."""
    data = bytearray()
    total = 0
    cut = False
    for m in _IOV.finditer(args):
        total += int(m.group(3))
        if cut:
            continue
        if m.group(1) is None:  # an address: strace did not read the buffer
            cut = True
            continue
        data += unhex(m.group(1))
        cut = m.group(2) is not None
    if ", ...]" in args:
        cut = True
    return bytes(data), total, cut


def message(args: str) -> tuple[int, bytes, bool] | None:
    """``{mtype=3, mtext="..."}`` of msgsnd/msgrcv: (mtype, text as printed, cut)."""
    h = _MSG_HEAD.search(args)
    if h is not None:  # the text decoded without the pattern (slow on a long one)
        e = args.find('"', h.end())
        text = _escapes(args[h.end() : e]) if e >= 0 else None
        cut = args.startswith("...", e + 1)
        if text is not None and args.startswith("}", e + 4 if cut else e + 1):
            return int(h.group(1)), text, cut
    m = _MSG.search(args)
    if m is None:
        return None
    return int(m.group(1)), unhex(m.group(2)), m.group(3) is not None


def sembufs(args: str) -> list[tuple[int, int, str]]:
    """semop's ``[{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}, ...]``: (num, op, flags)."""
    return [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in _SEMBUF.finditer(args)]

"""The strace line parser, on captured text (no process): every line shape it meets."""

from __future__ import annotations

from ipcviz.sources.strace import parser as P
from tests.anyprog.strace_text import MSGQ, PIPE, x


def test_every_line_of_a_capture_parses() -> None:
    for text in (PIPE + MSGQ).splitlines():
        assert P.parse_line(text) is not None, text


def test_a_whole_call() -> None:
    line = P.parse_line(
        f"3306  1795984768.123601 pipe2([3<{x('pipe:[7]')}>, 4<{x('pipe:[7]')}>], 0) = 0 <0.000015>"
    )
    assert line == P.Line(3306, 1795984768123601, P.CALL, "pipe2", line.args, 0, "", 15)
    assert P.fds(line.args) == [(3, "pipe:[7]"), (4, "pipe:[7]")]


def test_unfinished_and_resumed() -> None:
    begin = P.parse_line(f"3307  1795984768.124111 read(3<{x('pipe:[7]')}>,  <unfinished ...>")
    assert begin.kind == P.UNFINISHED and begin.name == "read" and begin.ret is None
    end = P.parse_line(
        f'3307  1795984768.124247 <... read resumed>"{x("hi")}", 4096) = 2 <1.000115>'
    )
    assert (end.kind, end.name, end.ret, end.dur) == (P.RESUMED, "read", 2, 1_000_115)
    assert P.string_arg(end.args) == (b"hi", False)
    assert P.ints(end.args) == [4096]


def test_errors_exits_signals() -> None:
    failed = P.parse_line(
        f'9  1.5 write(4<{x("pipe:[7]")}>, "{x("x")}", 1) = -1 EPIPE (Broken pipe) <0.000010>'
    )
    assert (failed.ret, failed.err, failed.t) == (-1, "EPIPE", 1_500_000)
    assert P.parse_line("9  1.000001 +++ exited with 3 +++").ret == 3
    killed = P.parse_line("9  1.000001 +++ killed by SIGKILL +++")
    assert (killed.kind, killed.name) == (P.KILLED, "SIGKILL")
    assert P.parse_line("9  1.000001 --- SIGPIPE {si_signo=SIGPIPE} ---").kind == P.SIGNAL
    gone = P.parse_line("9  1.000001 <... read resumed> <unfinished ...>) = ?")
    assert (gone.kind, gone.ret) == (P.RESUMED, None)


def test_a_return_printed_unsigned_is_the_negative_it_was() -> None:
    """A process killed in a msgrcv's return: strace printed ``= 18446744073709551615``,
    read as a receive of that many bytes; the trace it made had a ``size`` no reader
    accepts (``verify``: exit 2). A return is a signed long: that is -1, a failed call."""
    text = (
        '9  1.5 <... msgrcv resumed>{mtype=3, mtext="\\x70\\x32"}, 8, 0, 0) '
        "= 18446744073709551615 <0.000072>"
    )
    assert P.parse_line(text).ret == -1
    assert P.parse_line(text.replace(" <0.000072>", "")).ret == -1
    big = P.parse_line('9  1.5 <... read resumed>"", 9) = 999999999999999999 <0.000001>')
    assert big.ret == 999_999_999_999_999_999  # (18 digits: the fast path, as before)


def test_payload_bytes_are_only_bytes() -> None:
    """Quotes, brackets, escape codes and ``) = `` inside a payload are just bytes."""
    nasty = b'") = 0 <1>\x1b[2J[/x]\n\x00'
    line = P.parse_line(
        f'9  1.0 write(4<{x("pipe:[7]")}>, "{x(nasty)}", {len(nasty)}) = {len(nasty)} <0.000001>'
    )
    assert line.ret == len(nasty)
    assert P.string_arg(line.args) == (nasty, False)


def test_cut_string_and_messages() -> None:
    line = P.parse_line(f'9  1.0 write(4<{x("pipe:[7]")}>, "{x("abc")}"..., 100000) = 100000 <0.1>')
    assert P.string_arg(line.args) == (b"abc", True)
    msg = P.parse_line(f'9  1.0 msgsnd(5, {{mtype=3, mtext="{x("c1")}"}}, 2, IPC_NOWAIT) = 0 <0.1>')
    assert P.message(msg.args) == (3, b"c1", False) and P.ints(msg.args) == [5, 2]
    sem = "7, [{sem_num=0, sem_op=-1, sem_flg=SEM_UNDO}, {sem_num=1, sem_op=1, sem_flg=0}], 2"
    assert P.sembufs(sem) == [(0, -1, "SEM_UNDO"), (1, 1, "0")]


def test_an_entry_in_progress() -> None:
    assert P.parse_entry(f"3307  1795984768.124111 read(3<{x('pipe:[7]')}>, ") == (
        3307,
        1795984768124111,
        "read",
        f"3<{x('pipe:[7]')}>, ",
    )
    assert P.parse_entry("garbage") is None


def test_garbage_is_no_line() -> None:
    for text in ["", "strace: Process 5 attached", "12 x.y read(", "1  1.0 read(3, ", "\x1b[2J"]:
        assert P.parse_line(text) is None


def test_iovecs() -> None:
    whole = f'3<x>, [{{iov_base="{x("ab")}", iov_len=2}}, {{iov_base="", iov_len=0}}], 2'
    assert P.iovecs(whole) == (b"ab", 2, False)
    # a buffer cut by -s ends what is known; the lengths still add up
    cut = f'3<x>, [{{iov_base="{x("abc")}"..., iov_len=5}}, {{iov_base="{x("zz")}", iov_len=2}}], 2'
    assert P.iovecs(cut) == (b"abc", 7, True)
    # a buffer strace did not read (an address) and a list it cut short
    assert P.iovecs("3<x>, [{iov_base=0x7ffc, iov_len=4}], 1") == (b"", 4, True)
    listed = f'3<x>, [{{iov_base="{x("a")}", iov_len=1}}, ...], 9'
    assert P.iovecs(listed) == (b"a", 1, True)


def test_a_mode_alone_is_an_octal_number() -> None:
    """``semget(0x10af, 1, 0600)``: a set opened by its key with a mode and no flag (what
    sysv_ipc.Semaphore(key) calls). ``int("0600", 0)`` raised: an internal error ended the
    run of any program or command that made this call."""
    assert P.ints("0x10af, 1, 0600") == [0x10AF, 1, 0o600]
    assert P.ints("0x3a7b, 0, 0") == [0x3A7B, 0, 0]
    assert P.number("-1") == -1 and P.number("010") == 8 and P.number("0x10") == 16
